"""`ordo bench --section intake`: how fast Ordo acknowledges orders and how fast the
dispatcher turns a backlog into workflows, each against a baseline in the same run.

1. Accept: N canonical orders `POST /v1/orders` from a concurrent client on loopback to
   the API process on SQLite (each 202 means the row is committed). Baseline: the same
   client and API answering `GET /healthz` (HTTP alone, no parsing, no database).
2. Drain: the backlog from step 1 into `OrderWorkflow` starts by the dispatcher, on an
   in-memory dev server with no workers (starting is what is measured). Baseline: the
   same number of bare `start_workflow` calls from one client at the same concurrency.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from cli.bench.baseline import BaselineWorkflow
from cli.credentials import bearer, ensure_local_admin_at
from cli.processes import Supervisor, find_binary, free_ports
from cli.stack import settings_env
from config import queues
from config.settings import PROJECT_ROOT, Settings
from config.temporal import connect
from store import inbox as inbox_store
from store.db import make_engine
from store.migrate import migrate

CONCURRENCY = 64


def _order(tag: str, i: int) -> dict[str, Any]:
    return {
        "channel": "bench",
        "external_id": f"{tag}-{i}",
        "customer": {"id": f"b{i}"},
        "lines": [{"sku": "COKE-330-24", "quantity": 1, "unit_price": "59.00"}],
        "shipping_address": {
            "name": "Bench",
            "phone": "13800000000",
            "province": "上海",
            "city": "上海市",
            "district": "浦东新区",
            "street": "张江路1号",
        },
        "total": "59.00",
    }


def _request(method: str, path: str, body: bytes = b"", auth: dict[str, str] | None = None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (auth or {}).items())
    if body:
        head += "Content-Type: application/json\r\n"
    return head.encode() + b"\r\n" + body


async def _hammer(port: int, requests: list[bytes]) -> float:
    """Requests/s over CONCURRENCY keep-alive connections; every answer must be 2xx. A raw
    HTTP/1.1 client: httpx costs more CPU per request than the server on this 2-core
    machine, which would measure the client instead of Ordo."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                writer.write(queue.get_nowait())
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                if status >= 300:
                    raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
    return len(requests) / (time.perf_counter() - started)


async def _wait_http(url: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up")
            await asyncio.sleep(0.1)


async def _drained(db: Any, total: int) -> bool:
    return (await inbox_store.counts(db)).get("done", 0) >= total


async def _poll(check: Any, interval: float = 0.2) -> None:
    """Poll until check() is true (the dispatcher is another process: nothing to await)."""
    while True:
        if await check():
            return
        await asyncio.sleep(interval)


async def run_intake_bench(orders: int, out_dir: Path, console: Console) -> dict[str, Any]:
    temporal_port, ui, api_port = free_ports(3)
    var = out_dir / f"intake-{datetime.now(UTC):%Y%m%d%H%M%S}"
    var.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        var_dir=var, temporal_address=f"127.0.0.1:{temporal_port}", temporal_ui_port=ui, api_port=api_port
    )
    await asyncio.to_thread(migrate, settings.effective_database_url)
    await ensure_local_admin_at(settings, console)
    auth = bearer(settings)
    env = {**settings_env(settings), "ORDO_LOG_LEVEL": "warning"}
    api = f"http://127.0.0.1:{api_port}"
    sup = Supervisor(var / "logs")
    result: dict[str, Any] = {"orders": orders, "concurrency": CONCURRENCY, "database": "sqlite"}
    try:
        sup.start("api", [sys.executable, "-m", "api.app"], env=env, cwd=PROJECT_ROOT)
        await _wait_http(f"{api}/healthz")
        with console.status(f"intake: {orders} orders into the inbox..."):
            health = _request("GET", "/healthz")
            await _hammer(api_port, [health] * 500)  # warm-up
            baseline = await _hammer(api_port, [health] * orders)
            tag = uuid.uuid4().hex[:8]
            bodies = [
                _request("POST", "/v1/orders", json.dumps(_order(tag, i)).encode(), auth)
                for i in range(orders)
            ]
            accepted = await _hammer(api_port, bodies)
        result["accept"] = {
            "orders_per_s": round(accepted, 1),
            "baseline_healthz_per_s": round(baseline, 1),
            "ratio": round(accepted / baseline, 3),
        }

        sup.start(
            "temporal",
            [
                find_binary("temporal"),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(temporal_port),
                "--ui-port",
                str(ui),
                "--log-level",
                "warn",
                "--namespace",
                settings.temporal_namespace,
            ],
        )
        client = None
        deadline = time.monotonic() + 60
        while client is None:
            try:
                client = await connect(settings)
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        with console.status(f"intake: draining {orders} inbox rows into workflows..."):
            started = time.perf_counter()
            sup.start("dispatcher", [sys.executable, "-m", "api.dispatcher"], env=env, cwd=PROJECT_ROOT)
            db = make_engine(settings.effective_database_url, readonly=True)
            try:
                await _poll(lambda: _drained(db, orders))
            finally:
                await db.dispose()
            drain = time.perf_counter() - started
            sem = asyncio.Semaphore(CONCURRENCY)
            run = uuid.uuid4().hex[:8]

            async def bare(i: int) -> None:
                async with sem:
                    await client.start_workflow(
                        BaselineWorkflow.run, 0, id=f"bare-{run}-{i}", task_queue=queues.ORDERS
                    )

            started = time.perf_counter()
            await asyncio.gather(*(bare(i) for i in range(orders)))
            bare_seconds = time.perf_counter() - started
        result["drain"] = {
            "seconds": round(drain, 1),
            "workflows_per_s": round(orders / drain, 1),
            "baseline_bare_starts_seconds": round(bare_seconds, 1),
            "ratio": round(bare_seconds / drain, 3),
        }
    finally:
        sup.stop()
    table = Table(title=f"intake, {orders} orders, {CONCURRENCY} concurrent, SQLite")
    for col in ("step", "Ordo", "baseline (same run)", "ratio"):
        table.add_column(col)
    a, d = result["accept"], result["drain"]
    table.add_row(
        "accept into the inbox",
        f"{a['orders_per_s']}/s",
        f"GET /healthz {a['baseline_healthz_per_s']}/s",
        str(a["ratio"]),
    )
    table.add_row(
        "drain into workflows",
        f"{d['seconds']} s ({d['workflows_per_s']}/s)",
        f"bare starts {d['baseline_bare_starts_seconds']} s",
        str(d["ratio"]),
    )
    console.print(table)
    return result
