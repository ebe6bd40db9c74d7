"""`ordo chaos --soak MINUTES`: orders arriving at a steady rate for a set time, no faults,
to show what changes over time: orders settled, intake-to-waybill latency minute by minute,
and each process's memory at the start and at the end (a leak shows as growth)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cli.bench import cost
from cli.bench.orders import intake_to_waybill, percentile
from cli.chaos.load import Load
from cli.chaos.run import chaos_settings, running_stack, stamp
from cli.processes import Supervisor
from config.settings import get_settings

WARM_UP = 20  # orders (at most the soak's own) before the first memory reading: imports, caches, pools


def memory_mb(sup: Supervisor) -> dict[str, float]:
    """Resident memory of each child (VmRSS from /proc), in MB."""
    return {name: round(s.rss_mb, 1) for name, s in cost.snapshot(sup).items() if name != cost.CLIENT}


async def _steady(load: Load, rate: float, progress: Progress) -> None:
    """Open loop: order i is sent at i/rate seconds whatever the answers (a queue shows as
    latency, not as a slower sender)."""
    task = progress.add_task(f"soak at {rate:g} orders/s", total=load.total)
    sending = asyncio.create_task(load.run(rate=rate, concurrency=64))
    while not sending.done():
        progress.update(task, completed=load.answered)
        await asyncio.sleep(0.5)
    await sending


async def run_soak(minutes: float, rate: float, database_url: str, console: Console) -> dict[str, Any]:
    var = get_settings().var_dir / "chaos" / f"soak-{stamp()}"
    settings = chaos_settings(var, database_url)
    seconds = minutes * 60
    async with running_stack(settings, console) as ctx:
        total = max(1, round(rate * seconds))
        warm = Load(ctx.api, f"soak-warm-{uuid.uuid4().hex[:4]}", min(WARM_UP, total), cancel_every=0)
        await warm.run()
        await ctx.settle(warm.acknowledged, 300)
        memory_start = memory_mb(ctx.sup)
        load = Load(ctx.api, f"soak-{uuid.uuid4().hex[:4]}", total, cancel_every=0)
        with Progress(console=console, transient=True) as progress:
            await _steady(load, rate, progress)
            await ctx.settle(load.acknowledged, 600)
        memory_end = memory_mb(ctx.sup)
        order_ids = [f"chaos-{load.tag}-{i}" for i in range(load.total)]
        statuses = await ctx.api.statuses(order_ids)
        windows: list[dict[str, Any]] = []
        for minute in range(int((seconds + 59) // 60)):
            ids = [oid for i, oid in enumerate(order_ids) if minute * 60 <= i / rate < minute * 60 + 60]
            latencies, _ = await intake_to_waybill(ctx.client, ids)
            windows.append({"minute": minute + 1, "submitted": len(ids),
                            "settled": sum(1 for o in ids if statuses["orders"].get(o) in ("completed",)),
                            **{f"p{q}_ms": round(percentile(latencies, q), 1) for q in (50, 99)}})
    result = {"at": stamp(), "minutes": minutes, "rate": rate, "orders": load.total,
              "settled": sum(w["settled"] for w in windows), "windows": windows,
              "memory_mb": {name: {"start": memory_start.get(name), "end": mb}
                            for name, mb in memory_end.items()}}
    (var.parent / "latest-soak.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    console.print(soak_tables(result))
    print(json.dumps(result), flush=True)
    return result


def soak_tables(result: dict[str, Any]) -> Table:
    table = Table(title=f"ordo chaos --soak {result['minutes']:g} at {result['rate']:g} orders/s: "
                        f"{result['settled']} of {result['orders']} completed")
    for col in ("minute", "submitted", "completed", "intake→waybill p50 ms", "p99 ms"):
        table.add_column(col, justify="right")
    for w in result["windows"]:
        table.add_row(*(str(w[k]) for k in ("minute", "submitted", "settled", "p50_ms", "p99_ms")))
    table.add_section()
    table.add_row("process", "", "", "memory at start MB", "at end MB")
    for name, mb in sorted(result["memory_mb"].items()):
        table.add_row(name, "", "", str(mb["start"]), str(mb["end"]))
    return table
