"""`ordo up`: start the whole embedded stack as child processes and drive demo orders.

Order of start: Temporal dev server (persisted under var/), simulators, API, one worker
per task queue. Everything logs to var/logs/<name>.log; the terminal shows a live table.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import select

from cli.catalogue import import_file
from cli.demo import demo_orders
from cli.demo_returns import ReturnsDemo
from cli.demo_stock import StockDemo, stock_summary, stock_table
from cli.processes import StartupError, Supervisor, check_ports, find_binary
from config import queues
from config import search_attributes as sa
from config.settings import PROJECT_ROOT, Settings
from config.temporal import connect
from domain.status import SETTLED
from store import orders as order_store
from store import tables as t
from store.catalog import all_products, products_by_sku
from store.db import make_engine
from store.migrate import MigrationError, migrate
from workflows.schedules import ensure_schedules

DEMO_CATALOGUE = PROJECT_ROOT / "config" / "demo" / "catalog.yaml"
SETTLED_NAMES = {s.value for s in SETTLED}
MAX_RESTARTS = 5


def _port(address: str) -> int:
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
            "ORDO_INVENTORY_SCHEDULES": str(settings.inventory_schedules).lower()}


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
    """The WMS simulator keeps its stock in memory: each start it is given the ledger's on-hand
    and defective balances, as a real WMS and OMS agree after a stocktake. Drift starts from
    zero."""
    engine = make_engine(settings.effective_database_url, readonly=True)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(
                select(t.stock.c.warehouse, t.stock.c.sku, t.stock.c.on_hand, t.stock.c.defective))).all()
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.put(f"{settings.wms_url}/admin/stock", json={"stock": [
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
            "--port", str(_port(settings.temporal_address)),
            "--ui-port", str(settings.temporal_ui_port), "--log-level", "warn",
            "--namespace", settings.temporal_namespace]
    for name, kind in sa.DEV_SERVER_TYPES.items():
        argv += ["--search-attribute", f"{name}={kind}"]
    sup.start("temporal", argv)
    sim_env = {**settings_env(settings), "ORDO_SIM_FAILURE_RATE": str(sim_failure_rate),
               "ORDO_SIM_TRACKING_STEP_SECONDS": str(tracking_step),
               "ORDO_SIM_PUSH_URL": f"{settings.api_url}/v1/carriers",
               "ORDO_SIM_NOTIFY_URL": f"{settings.api_url}/v1/payments/alipay/notify",
               "ORDO_SIM_RETURN_SECONDS": "2"}  # return parcels reach the warehouse 2 s after their label
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


async def submit(settings: Settings, orders: list[dict[str, Any]]) -> list[str]:
    sem = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=30) as http:
        async def one(o: dict[str, Any]) -> str:
            async with sem:
                for _ in range(50):
                    r = await http.post(f"{settings.api_url}/v1/orders", json=o)
                    if r.status_code in (200, 202):
                        return str(r.json()["order_id"])
                    if r.status_code < 500:
                        raise StartupError(f"demo order refused: {r.status_code} {r.text}")
                    await asyncio.sleep(0.5)
                raise StartupError(f"the API kept failing: {r.status_code} {r.text}")
        return list(await asyncio.gather(*(one(o) for o in orders)))


def summary_table(counts: dict[str, int], total: int, elapsed: float) -> Table:
    table = Table(title=f"Demo orders ({total}) after {elapsed:.0f}s", expand=False)
    table.add_column("status")
    table.add_column("orders", justify="right")
    for status, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        style = "green" if status == "completed" else "yellow" if status in SETTLED_NAMES else ""
        table.add_row(f"[{style}]{status}[/]" if style else status, str(n))
    return table


def urls_panel(settings: Settings) -> Panel:
    ui_host = settings.temporal_address.rsplit(":", 1)[0]
    return Panel(
        f"Temporal Web UI  http://{ui_host}:{settings.temporal_ui_port}\n"
        f"API docs         {settings.api_url}/docs\n"
        f"logs             {settings.var_dir / 'logs'}\n"
        "Ctrl-C stops everything; `make run` again resumes.", title="Ordo is up")


async def run_up(settings: Settings, demo_count: int, until_done: bool, timeout: float,
                 sim_failure_rate: float, tracking_step: float, console: Console) -> int:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    check_ports({"Temporal": _port(settings.temporal_address), "Temporal UI": settings.temporal_ui_port,
                 "API": settings.api_port, "WMS simulator": _port(settings.wms_url),
                 "carrier simulator": _port(settings.carriers_url),
                 "payment simulator": _port(settings.payments_url),
                 "marketplace simulator": _port(settings.channels_url)})
    find_binary("temporal")
    await prepare_database(settings, console)
    sup = Supervisor(settings.var_dir / "logs")
    started = time.monotonic()
    try:
        with console.status("starting Temporal, the simulators, the API and the workers..."):
            await start_stack(sup, settings, sim_failure_rate, tracking_step)
        console.print(urls_panel(settings))
        order_ids: list[str] = []
        if demo_count:
            engine = make_engine(settings.effective_database_url)
            async with engine.connect() as conn:
                products = await all_products(conn)
            await engine.dispose()
            tag = datetime.now(UTC).strftime("demo%Y%m%d%H%M%S")
            orders = demo_orders(products, demo_count, tag)
            with console.status(f"submitting {demo_count} demo orders..."):
                order_ids = await submit(settings, orders)
            unpaid = [oid for oid, o in zip(order_ids, orders, strict=True)
                      if o["payment"]["status"] == "awaiting"]
            stock_demo = StockDemo(settings)
            returns_demo = ReturnsDemo(settings)
            background = [asyncio.create_task(stock_demo.run(unpaid)),
                          asyncio.create_task(returns_demo.run(order_ids, timeout))]
            try:
                return await _watch(settings, sup, order_ids, until_done, timeout, started, console,
                                    stock_demo, returns_demo)
            finally:
                for task in background:
                    task.cancel()
        return await _watch(settings, sup, order_ids, until_done, timeout, started, console)
    finally:
        with console.status("stopping every process..."):
            sup.stop()



async def _watch(settings: Settings, sup: Supervisor, order_ids: list[str], until_done: bool,
                 timeout: float, started: float, console: Console, stock: StockDemo | None = None,
                 returns: ReturnsDemo | None = None) -> int:
    engine = make_engine(settings.effective_database_url, readonly=True)
    try:
        with Live(console=console, refresh_per_second=2) as live:
            while True:
                for child in sup.dead():
                    if child.name == "temporal" or child.restarts >= MAX_RESTARTS:
                        raise StartupError(f"{child.name} stopped (exit {child.proc.returncode}); its log "
                                           f"({child.log_path}) ends:\n{sup.tail(child)}")
                    console.print(f"[yellow]{child.name} exited ({child.proc.returncode}); restarting it[/]")
                    sup.restart(child)
                ids = order_ids or None
                counts = await order_store.counts_by_status(engine, ids)
                elapsed = time.monotonic() - started
                parts: list[Any] = [summary_table(counts, len(order_ids) or sum(counts.values()), elapsed)]
                if stock is not None:
                    parts += [await stock_table(engine), Panel("\n".join(stock.events[-12:]) or "...",
                                                              title="stock events")]
                if returns is not None:
                    parts.append(Panel("\n".join(returns.events[-8:]) or "waiting for delivered orders...",
                                       title="returns (逆向物流)"))
                live.update(Group(*parts))
                settled = sum(n for s, n in counts.items() if s in SETTLED_NAMES)
                stock_done = stock is None or "alerts" in stock.summary or any(
                    "stock demo stopped" in e for e in stock.events)
                returns_done = returns is None or returns.done
                if until_done and settled >= len(order_ids) and stock_done and returns_done:
                    break
                if until_done and elapsed > timeout:
                    console.print(f"[red]{len(order_ids) - settled} orders not settled after "
                                  f"{timeout:.0f}s; see {sup.log_dir}[/]")
                    return 1
                await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    result: dict[str, Any] = {"orders": len(order_ids), "completed": counts.get("completed", 0),
                              "cancelled": counts.get("cancelled", 0),
                              "exception": counts.get("awaiting_operator", 0),
                              "seconds": round(time.monotonic() - started, 1)}
    if returns is not None:
        result["returns"] = returns.summary
    if stock is not None:
        engine = make_engine(settings.effective_database_url, readonly=True)
        try:
            result["stock"] = {**stock.summary, **await stock_summary(engine)}
        finally:
            await engine.dispose()
    console.print()
    print(json.dumps(result), flush=True)  # the last line, for scripts
    return 0

