"""`ordo bench`: Ordo's order throughput and intake-to-waybill latency on the embedded
stack, against a baseline measured in the same run on the same dev server.

The baseline is N bare workflows, each running as many no-op remote activities as one
Ordo order runs steps (activities and local activities, counted from a real order's
history), so the ratio says what Ordo's own work costs on top of Temporal's.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Worker

from cli.bench.baseline import BaselineWorkflow, noop
from cli.credentials import bearer
from cli.processes import Supervisor
from cli.stack import isolated_settings, prepare_database, start_stack
from config.settings import Settings
from config.temporal import connect
from domain.model import Catalogue, StockLevel
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
    sem = asyncio.Semaphore(32)
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, headers=bearer(settings)) as http:
        async def submit(p: dict[str, Any]) -> str:
            async with sem:
                r = await http.post(f"{settings.api_url}/v1/orders", json=p)
                r.raise_for_status()
                return str(r.json()["order_id"])
        ids = await asyncio.gather(*(submit(p) for p in payloads))
    engine = make_engine(settings.effective_database_url, readonly=True)
    try:
        while True:
            counts = await order_store.counts_by_status(engine, list(ids))
            done = counts.get("completed", 0)
            progress.update(task, completed=done)
            if done == n:
                break
            stuck = sum(v for k, v in counts.items() if k in ("cancelled", "awaiting_operator"))
            if stuck:
                raise RuntimeError(f"{stuck} benchmark orders did not complete: {counts}")
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    elapsed = time.perf_counter() - started
    latencies, steps = await intake_to_waybill(client, list(ids))
    return {"orders": n, "seconds": round(elapsed, 2), "orders_per_s": round(n / elapsed, 2),
            "steps_per_order": steps, "latency_ms": _summary(latencies), "raw_latencies": latencies}


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


async def run_bench(orders: int, out_dir: Path, console: Console, encrypted: bool = True) -> dict[str, Any]:
    """`encrypted`: payloads to Temporal through the codec (the default, as Ordo runs)."""
    var = out_dir / f"run-{datetime.now(UTC):%Y%m%d%H%M%S}-{'codec' if encrypted else 'plain'}"
    settings = isolated_settings(var, payload_encryption=encrypted)
    var.mkdir(parents=True, exist_ok=True)
    await prepare_database(settings, console)
    engine = make_engine(settings.effective_database_url)
    await import_catalogue(engine, Catalogue(stock=[
        StockLevel(sku=SKU, warehouse=w, on_hand=1_000_000) for w in ("SH-01", "GZ-01", "BJ-01", "CD-01")]))
    await engine.dispose()
    sup = Supervisor(var / "logs")
    try:
        with console.status("starting the embedded stack..."):
            await start_stack(sup, settings, sim_failure_rate=0.0, tracking_step=0.0, persist=False)
        client = await connect(settings)
        with Progress(console=console) as progress:
            await _run_ordo(settings, client, min(10, orders), progress, "warm-up")
            one_by_one: list[float] = []
            for _ in range(20):  # latency without queueing: one order at a time
                one_by_one += (await _run_ordo(settings, client, 1, progress))["raw_latencies"]
            ordo = await _run_ordo(settings, client, orders, progress, f"Ordo, {orders} orders at once")
            baseline = await _run_baseline(client, orders, ordo["steps_per_order"], progress)
    finally:
        sup.stop()
    ordo.pop("raw_latencies")
    result = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "ordo": ordo, "baseline": baseline,
              "latency_one_at_a_time_ms": _summary(one_by_one),
              "ratio": round(ordo["orders_per_s"] / baseline["orders_per_s"], 3)}
    (out_dir / "latest.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    table = Table(title=f"ordo bench --orders {orders}" + ("" if encrypted else ", payloads not encrypted"))
    for col in ("run", "orders/s", "seconds", "steps/order", "intake→waybill ms p50/p95/p99"):
        table.add_column(col)
    lat = ordo["latency_ms"]
    table.add_row("Ordo", str(ordo["orders_per_s"]), str(ordo["seconds"]), str(ordo["steps_per_order"]),
                  f"{lat['p50']} / {lat['p95']} / {lat['p99']}")
    light = result["latency_one_at_a_time_ms"]
    table.add_row("Ordo, one order at a time", "", "", "",
                  f"{light['p50']} / {light['p95']} / {light['p99']}")
    table.add_row("baseline", str(baseline["orders_per_s"]), str(baseline["seconds"]),
                  str(ordo["steps_per_order"]), "")
    console.print(table)
    console.print(f"ratio Ordo/baseline: {result['ratio']}  (written to {out_dir / 'latest.json'})")
    return result
