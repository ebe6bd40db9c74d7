"""The embedded stack as child processes: Temporal dev server (persisted under var/),
simulators, the API, the dispatcher and one worker per task queue, each waited for before
the next depends on it. Used by `ordo up` and the benchmarks."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import select

from cli.commands.catalogue import import_file
from cli.credentials import ensure_local_admin_at
from cli.processes import StartupError, Supervisor, find_binary, free_ports
from config import queues
from config import search_attributes as sa
from config.settings import PROJECT_ROOT, Settings
from config.temporal import connect
from store import tables as t
from store.catalog import products_by_sku
from store.db import make_engine
from store.migrate import MigrationError, migrate
from workflows.schedules import ensure_schedules

DEMO_CATALOGUE = PROJECT_ROOT / "config" / "demo" / "catalog.yaml"


def isolated_settings(var: Path, **overrides: Any) -> Settings:
    """Settings for a stack of its own (the benchmark's, `ordo chaos`'s): free ports, its own
    var directory, so it never clashes with a running `ordo up`."""
    temporal, ui, api, wms, car, pay, chan, *metrics = free_ports(7 + len(queues.ALL))
    overrides.setdefault("worker_metrics_ports", metrics)
    return Settings(var_dir=var, temporal_address=f"127.0.0.1:{temporal}", temporal_ui_port=ui,
                    api_port=api, wms_url=f"http://127.0.0.1:{wms}", carriers_url=f"http://127.0.0.1:{car}",
                    payments_url=f"http://127.0.0.1:{pay}", channels_url=f"http://127.0.0.1:{chan}",
                    **overrides)


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


async def _wait_for(check: Any, what: str, sup: Supervisor, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in sup.dead():
            raise StartupError(f"{child.name} exited with code {child.proc.returncode} while "
                               f"waiting for {what}. Its log ({child.log_path}) ends:\n{sup.tail(child)}")
        try:
            if await check():
                return
        except Exception:  # not up yet
            pass
        await asyncio.sleep(0.2)
    raise StartupError(f"{what} did not come up within {timeout:.0f}s; see {sup.log_dir}")


async def prepare_database(settings: Settings, console: Console) -> None:
    url = settings.effective_database_url
    try:
        await asyncio.to_thread(migrate, url)
    except MigrationError as exc:
        raise StartupError(str(exc)) from exc
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            has_catalogue = bool(await products_by_sku(conn, ["COKE-330-24"]))
    finally:
        await engine.dispose()
    if has_catalogue:
        console.print("[dim]database already holds a catalogue: resuming from it[/]")
    else:
        counts = await import_file(DEMO_CATALOGUE, url)
        console.print(f"loaded the demo catalogue ({DEMO_CATALOGUE.relative_to(PROJECT_ROOT)}): "
                      + ", ".join(f"{v} {k}" for k, v in counts.items()))
    await ensure_local_admin_at(settings, console)


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as ORDO_* variables, so every child process sees the same stack."""
    return {"PYTHONPATH": str(PROJECT_ROOT), "ORDO_VAR_DIR": str(settings.var_dir),
            "ORDO_DATABASE_URL": settings.effective_database_url,
            "ORDO_TEMPORAL_ADDRESS": settings.temporal_address,
            "ORDO_TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "ORDO_TEMPORAL_UI_PORT": str(settings.temporal_ui_port),
            "ORDO_API_HOST": settings.api_host, "ORDO_API_PORT": str(settings.api_port),
            "ORDO_WMS_URL": settings.wms_url, "ORDO_CARRIERS_URL": settings.carriers_url,
            "ORDO_PAYMENTS_URL": settings.payments_url, "ORDO_CHANNELS_URL": settings.channels_url,
            "ORDO_RULES_DIR": str(settings.rules_dir),
            "ORDO_ALIPAY_SECRET": settings.alipay_secret,
            "ORDO_HTTP_TIMEOUT_SECONDS": str(settings.http_timeout_seconds),
            "ORDO_INVENTORY_SCHEDULES": str(settings.inventory_schedules).lower(),
            "ORDO_PAYLOAD_ENCRYPTION": str(settings.payload_encryption).lower(),
            "ORDO_WORKFLOW_SANDBOX": settings.workflow_sandbox,
            "ORDO_WORKER_METRICS_PORTS": json.dumps(settings.worker_metrics_ports)}


async def start_stack(sup: Supervisor, settings: Settings, sim_failure_rate: float,
                      tracking_step: float, persist: bool = True) -> None:
    """Temporal, simulators, API and workers, each waited for before the next depends on it."""
    start_services(sup, settings, sim_failure_rate, tracking_step, persist)
    await _wait_for(lambda: connect(settings), "the Temporal dev server", sup)
    start_ordo(sup, settings)
    async with httpx.AsyncClient(timeout=2) as http:
        async def api_up() -> bool:
            return (await http.get(f"{settings.api_url}/healthz")).status_code == 200
        await _wait_for(api_up, "the Ordo API", sup)
    await seed_wms_stock(settings)
    try:
        await ensure_schedules(await connect(settings), settings)
    except Exception as exc:  # the stack still works; the schedules can be made later
        print(f"warning: could not create the inventory schedules ({exc}); run `ordo inventory "
              "schedule` once Temporal is less busy", file=sys.stderr)


async def seed_wms_stock(settings: Settings) -> int:
    """A WMS simulator that holds no stock yet (its first start, or one kept in memory) is given
    the ledger's on-hand and defective balances, as a real WMS and OMS agree after a stocktake.
    One that kept its state under var/sim keeps its own count, drift included."""
    engine = make_engine(settings.effective_database_url, readonly=True)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(
                select(t.stock.c.warehouse, t.stock.c.sku, t.stock.c.on_hand, t.stock.c.defective))).all()
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.put(f"{settings.wms_url}/admin/stock", params={"replace": "false"}, json={"stock": [
            {"warehouse": w, "sku": s, "quantity": q, "defective": d} for w, s, q, d in rows]})
        resp.raise_for_status()
    return len(rows)


def start_services(sup: Supervisor, settings: Settings, sim_failure_rate: float,
                   tracking_step: float, persist: bool = True) -> None:
    temporal = find_binary("temporal")
    py = sys.executable
    var = settings.var_dir
    argv = [temporal, "server", "start-dev",
            *(["--db-filename", str(var / "temporal.db")] if persist else []),
            "--ip", settings.temporal_address.rsplit(":", 1)[0],
            "--port", str(port_of(settings.temporal_address)),
            "--ui-port", str(settings.temporal_ui_port), "--log-level", "warn",
            "--ui-codec-endpoint", f"{settings.api_url}/codec",
            "--namespace", settings.temporal_namespace]
    for name, kind in sa.DEV_SERVER_TYPES.items():
        argv += ["--search-attribute", f"{name}={kind}"]
    sup.start("temporal", argv)
    sim_env = {**settings_env(settings), "ORDO_SIM_FAILURE_RATE": str(sim_failure_rate),
               "ORDO_SIM_TRACKING_STEP_SECONDS": str(tracking_step),
               "ORDO_SIM_PUSH_URL": f"{settings.api_url}/v1/carriers",
               "ORDO_SIM_NOTIFY_URL": f"{settings.api_url}/v1/payments/alipay/notify",
               "ORDO_SIM_RETURN_SECONDS": "2",  # return parcels reach the warehouse 2 s after their label
               "ORDO_SIM_STATE_DIR": str(var / "sim") if persist else ""}
    for name, url in (("wms", settings.wms_url), ("carriers", settings.carriers_url),
                      ("payments", settings.payments_url), ("marketplaces", settings.channels_url)):
        sup.start(f"sim-{name}", [py, "-m", "uvicorn", f"simulators.{name}:app", "--host", "127.0.0.1",
                                  "--port", url.rsplit(":", 1)[1], "--log-level", "warning"],
                  env=sim_env, cwd=PROJECT_ROOT)


def start_ordo(sup: Supervisor, settings: Settings) -> None:
    py = sys.executable
    env = settings_env(settings)
    sup.start("api", [py, "-m", "api.app"], env=env, cwd=PROJECT_ROOT)
    sup.start("dispatcher", [py, "-m", "api.dispatcher"], env=env, cwd=PROJECT_ROOT)
    for q in queues.ALL:
        sup.start(f"worker-{q}", [py, str(PROJECT_ROOT / "worker.py"), "--queue", q],
                  env=env, cwd=PROJECT_ROOT)


