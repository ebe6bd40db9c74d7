"""`ordo bench`: Ordo's order throughput and intake-to-waybill latency on the embedded
stack, against a baseline measured in the same run on the same dev server.

The baseline is N bare workflows, each running as many no-op remote activities as one
Ordo order runs steps (activities and local activities, counted from a real order's
history), so the ratio says what Ordo's own work costs on top of Temporal's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Worker

from cli.bench import cost
from cli.bench.baseline import BaselineWorkflow, noop
from cli.bench.scratch_db import scratch_database, server_url
from cli.chaos.load import Load
from cli.credentials import bearer
from cli.demo.api import OrdoApi
from cli.processes import Supervisor
from cli.stack import isolated_settings, prepare_database, settings_env, start_stack
from config import queues
from config.settings import PROJECT_ROOT, Settings
from config.temporal import connect
from domain.model import Catalogue, StockLevel
from domain.status import SHIPPED_OR_LATER
from store import orders as order_store
from store.catalog import import_catalogue
from store.db import make_engine

SKU, PRICE = "COKE-330-24", Decimal("59.00")
STEP_EVENTS = (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_MARKER_RECORDED)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _order(tag: str, i: int) -> dict[str, Any]:
    return {"channel": "bench", "external_id": f"{tag}-{i}", "customer": {"id": f"b{i}"},
            "lines": [{"sku": SKU, "quantity": 1, "unit_price": str(PRICE)}],
            "shipping_address": {"name": "Bench", "phone": "13800000000", "province": "上海",
                                 "city": "上海市", "district": "浦东新区", "street": "张江路1号"},
            "total": str(PRICE)}


async def _run_ordo(settings: Settings, client: Client, n: int, progress: Progress,
                    label: str = "") -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    payloads = [_order(tag, i) for i in range(n)]
    task = progress.add_task(label or "Ordo orders", total=n, visible=bool(label))
    started = time.perf_counter()
    ids = await _submit_all(settings, payloads)
    await _wait_completed(settings, list(ids), progress, task)
    elapsed = time.perf_counter() - started
    latencies, steps = await intake_to_waybill(client, list(ids))
    return {"orders": n, "seconds": round(elapsed, 2), "orders_per_s": round(n / elapsed, 2),
            "steps_per_order": steps, "latency_ms": _summary(latencies), "raw_latencies": latencies,
            "first_id": ids[0]}


async def _submit_all(settings: Settings, payloads: list[dict[str, Any]]) -> list[str]:
    """Every order posted to the API, 32 at a time; their order ids."""
    sem = asyncio.Semaphore(32)
    async with httpx.AsyncClient(timeout=60, headers=bearer(settings)) as http:
        async def submit(p: dict[str, Any]) -> str:
            async with sem:
                r = await http.post(f"{settings.api_url}/v1/orders", json=p)
                r.raise_for_status()
                return str(r.json()["order_id"])
        return list(await asyncio.gather(*(submit(p) for p in payloads)))


async def _wait_completed(settings: Settings, ids: list[str], progress: Progress, task: TaskID,
                          status: str = "completed") -> None:
    """Until every order has reached `status` (or, waiting for `shipped`, any later one)."""
    reached = {status} | ({s.value for s in SHIPPED_OR_LATER} if status == "shipped" else set())
    engine = make_engine(settings.effective_database_url, readonly=True)
    try:
        while True:
            counts = await order_store.counts_by_status(engine, ids)
            done = sum(v for k, v in counts.items() if k in reached)
            progress.update(task, completed=done)
            if done == len(ids):
                return
            stuck = sum(v for k, v in counts.items() if k in ("cancelled", "awaiting_operator"))
            if stuck:
                raise RuntimeError(f"{stuck} benchmark orders did not complete: {counts}")
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class BenchOptions:
    """How the stack is laid out and what else is measured besides the burst."""
    orders_workers: int = 1
    dispatchers: int = 1
    postgres: bool = False
    open_loop: bool = True
    in_flight: int = 0  # orders held waiting for tracking to weigh the worker's memory; 0: not measured


def _summary(latencies: list[float]) -> dict[str, float]:
    return {f"p{q}": round(percentile(latencies, q), 1) for q in (50, 95, 99)}


async def intake_to_waybill(client: Client, ids: list[str]) -> tuple[list[float], int]:
    """Intake (order workflow start) to waybill (the parcel's create-waybill completed)."""
    latencies: list[float] = []
    steps = 0
    for order_id in ids:
        order_hist = await client.get_workflow_handle(f"order-{order_id}").fetch_history()
        child_hist = await client.get_workflow_handle(f"shipment-{order_id}-p1").fetch_history()
        start = order_hist.events[0].event_time.ToDatetime()
        waybill_at = _waybill_time(child_hist)
        if waybill_at is not None:
            latencies.append((waybill_at - start).total_seconds() * 1000)
        if not steps:
            steps = sum(1 for h in (order_hist, child_hist) for e in h.events if e.event_type in STEP_EVENTS)
    return latencies, steps


def _waybill_time(history: WorkflowHistory) -> datetime | None:
    scheduled = {e.event_id for e in history.events
                 if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                 and e.activity_task_scheduled_event_attributes.activity_type.name
                 == "carrier_create_waybill"}
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED and \
                e.activity_task_completed_event_attributes.scheduled_event_id in scheduled:
            return e.event_time.ToDatetime()
    return None


async def _run_baseline(client: Client, n: int, steps: int, progress: Progress) -> dict[str, Any]:
    task = progress.add_task(f"baseline ({steps} no-op activities each)", total=n)
    queue = f"bench-baseline-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[BaselineWorkflow], activities=[noop]):
        started = time.perf_counter()
        handles = await asyncio.gather(*(client.start_workflow(
            BaselineWorkflow.run, steps, id=f"baseline-{queue}-{i}", task_queue=queue) for i in range(n)))
        for h in handles:
            await h.result()
            progress.advance(task)
        elapsed = time.perf_counter() - started
    return {"orders": n, "seconds": round(elapsed, 2), "orders_per_s": round(n / elapsed, 2)}


async def _open_loop(settings: Settings, client: Client, n: int, rate: float,
                     progress: Progress) -> dict[str, Any]:
    """`n` orders arriving at a steady `rate` per second (not a burst), as a day's trade
    arrives: the latency an order sees when the stack keeps up."""
    task = progress.add_task(f"open loop, {rate:.1f} orders/s", total=n)
    async with httpx.AsyncClient(timeout=60) as http:
        load = Load(OrdoApi(settings, http), uuid.uuid4().hex[:8], n, cancel_every=0, make=_order)
        await load.run(rate=rate, concurrency=64)
    ids = load.acknowledged
    await _wait_completed(settings, ids, progress, task)
    latencies, _ = await intake_to_waybill(client, ids)
    return {"orders": n, "rate_per_s": round(rate, 2), "latency_ms": _summary(latencies)}


async def _in_flight_memory(settings: Settings, sup: Supervisor, n: int,
                            progress: Progress) -> dict[str, Any]:
    """Resident memory the orders worker gains holding `n` orders that wait for tracking
    (the carrier collects nothing meanwhile), scaled to 1,000 orders."""
    worker = next(c for c in sup.children if c.name == "worker-orders")
    before = cost.sample(worker.proc.pid)
    tag = uuid.uuid4().hex[:8]
    task = progress.add_task(f"{n} orders waiting for tracking", total=n)
    async with httpx.AsyncClient(timeout=60) as http:
        await http.put(f"{settings.carriers_url}/admin/tracking", json={"paused": True})
        ids = await _submit_all(settings, [_order(tag, i) for i in range(n)])
        await _wait_completed(settings, ids, progress, task, status="shipped")
        after = cost.sample(worker.proc.pid)
        await http.put(f"{settings.carriers_url}/admin/tracking", json={"paused": False})
    await _wait_completed(settings, ids, progress, task)  # before the baseline, which they would slow
    if before is None or after is None:
        return {}
    return {"orders": n, "rss_mb_before": round(before.rss_mb, 1), "rss_mb_after": round(after.rss_mb, 1),
            "rss_mb_per_1000": round((after.rss_mb - before.rss_mb) * 1000 / n, 1)}


async def run_bench(orders: int, out_dir: Path, console: Console, encrypted: bool = True,
                    options: BenchOptions | None = None) -> dict[str, Any]:
    """`encrypted`: payloads to Temporal through the codec (the default, as Ordo runs)."""
    opts = options or BenchOptions()
    var = out_dir / f"run-{datetime.now(UTC):%Y%m%d%H%M%S}-{'codec' if encrypted else 'plain'}"
    async with contextlib.AsyncExitStack() as stack:
        database_url = ""
        if opts.postgres:
            database_url = await stack.enter_async_context(
                scratch_database(server_url("the PostgreSQL bench"), "ordo_bench_orders"))
        settings = isolated_settings(var, payload_encryption=encrypted, database_url=database_url)
        result = await _run_stack(settings, var, orders, console, opts)
    result["database"] = "postgresql" if opts.postgres else "sqlite"
    result["encrypted"] = encrypted
    await asyncio.to_thread(_write, out_dir / "latest.json", result)
    _print(console, result, orders, encrypted)
    console.print(f"written to {out_dir / 'latest.json'}")
    return result


def _write(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")


async def _run_stack(settings: Settings, var: Path, orders: int, console: Console,
                     opts: BenchOptions) -> dict[str, Any]:
    await asyncio.to_thread(var.mkdir, parents=True, exist_ok=True)
    await prepare_database(settings, console)
    engine = make_engine(settings.effective_database_url)
    await import_catalogue(engine, Catalogue(stock=[
        StockLevel(sku=SKU, warehouse=w, on_hand=1_000_000) for w in ("SH-01", "GZ-01", "BJ-01", "CD-01")]))
    await engine.dispose()
    sup = Supervisor(var / "logs")
    result: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "orders_workers": opts.orders_workers, "dispatchers": opts.dispatchers}
    try:
        with console.status("starting the embedded stack..."):
            await start_stack(sup, settings, sim_failure_rate=0.0, tracking_step=0.0, persist=False)
            add_processes(sup, settings, opts)
        client = await connect(settings)
        with Progress(console=console) as progress:
            await _run_ordo(settings, client, min(10, orders), progress, "warm-up")
            one_by_one: list[float] = []
            for _ in range(20):  # latency without queueing: one order at a time
                one_by_one += (await _run_ordo(settings, client, 1, progress))["raw_latencies"]
            before = cost.snapshot(sup)
            ordo = await _run_ordo(settings, client, orders, progress, f"Ordo, {orders} orders at once")
            after = cost.snapshot(sup)
            per_order = await cost.history_cost(client, [f"order-{ordo['first_id']}",
                                                         f"shipment-{ordo['first_id']}-p1"])
            if opts.open_loop:
                result["open_loop"] = await _open_loop(settings, client, max(20, orders // 2),
                                                       ordo["orders_per_s"] / 2, progress)
            if opts.in_flight:
                result["in_flight"] = await _in_flight_memory(settings, sup, opts.in_flight, progress)
            before_base = cost.snapshot(sup)
            baseline = await _run_baseline(client, orders, ordo["steps_per_order"], progress)
            after_base = cost.snapshot(sup)
    finally:
        sup.stop()
    ordo.pop("raw_latencies")
    ordo.pop("first_id")
    ordo["cpu_ms_per_order"] = cost.cpu_ms_per_order(before, after, orders)
    ordo["history_per_order"] = per_order
    ordo["rss_mb_after"] = {name: round(s.rss_mb, 1) for name, s in after.items()}
    base_cpu = cost.cpu_ms_per_order(before_base, after_base, orders)
    baseline["cpu_ms_per_order"] = {k: base_cpu[k] for k in ("temporal", cost.CLIENT, "total")
                                    if k in base_cpu}
    result.update({"ordo": ordo, "baseline": baseline, "latency_one_at_a_time_ms": _summary(one_by_one),
                   "ratio": round(ordo["orders_per_s"] / baseline["orders_per_s"], 3)})
    return result


def add_processes(sup: Supervisor, settings: Settings, opts: BenchOptions) -> None:
    """Extra `orders` workers and dispatchers beside the stack's one of each (past one process)."""
    env = {**settings_env(settings), "ORDO_WORKER_METRICS_PORTS": "[]"}
    for i in range(2, opts.orders_workers + 1):
        sup.start(f"worker-orders-{i}", [sys.executable, str(PROJECT_ROOT / "worker.py"), "--queue",
                                         queues.ORDERS], env=env, cwd=PROJECT_ROOT)
    for i in range(2, opts.dispatchers + 1):
        sup.start(f"dispatcher-{i}", [sys.executable, "-m", "api.dispatcher"], env=env, cwd=PROJECT_ROOT)


def _print(console: Console, result: dict[str, Any], orders: int, encrypted: bool) -> None:
    ordo, baseline = result["ordo"], result["baseline"]
    table = Table(title=f"ordo bench --orders {orders} on {result['database']}"
                  + ("" if encrypted else ", payloads not encrypted")
                  + f", {result['orders_workers']} orders worker(s), {result['dispatchers']} dispatcher(s)")
    for col in ("run", "orders/s", "seconds", "steps/order", "intake→waybill ms p50/p95/p99"):
        table.add_column(col)
    lat = ordo["latency_ms"]
    table.add_row("Ordo", str(ordo["orders_per_s"]), str(ordo["seconds"]), str(ordo["steps_per_order"]),
                  f"{lat['p50']} / {lat['p95']} / {lat['p99']}")
    light = result["latency_one_at_a_time_ms"]
    table.add_row("Ordo, one order at a time", "", "", "",
                  f"{light['p50']} / {light['p95']} / {light['p99']}")
    if "open_loop" in result:
        ol = result["open_loop"]
        table.add_row(f"Ordo, open loop at {ol['rate_per_s']}/s", "", "", "",
                      f"{ol['latency_ms']['p50']} / {ol['latency_ms']['p95']} / {ol['latency_ms']['p99']}")
    table.add_row("baseline", str(baseline["orders_per_s"]), str(baseline["seconds"]),
                  str(ordo["steps_per_order"]), "")
    console.print(table)
    cpu = Table("process", "CPU ms per order", "RSS MB after", title="cost of one order, per process")
    for name, ms in ordo["cpu_ms_per_order"].items():
        cpu.add_row(name, str(ms), str(ordo["rss_mb_after"].get(name, "")))
    cpu.add_row("baseline: temporal", str(baseline["cpu_ms_per_order"].get("temporal", "")), "")
    cpu.add_row("baseline: total", str(baseline["cpu_ms_per_order"].get("total", "")), "")
    console.print(cpu)
    h = ordo["history_per_order"]
    console.print(f"history per order (order + parcel): {h['events']} events, {h['payload_bytes']:,} payload "
                  f"bytes, {h['history_bytes']:,} bytes in all")
    if result.get("in_flight"):
        console.print(f"orders worker memory: {result['in_flight']['rss_mb_per_1000']} MB per 1,000 orders "
                      "waiting for tracking")
    console.print(f"ratio Ordo/baseline: {result['ratio']}")
