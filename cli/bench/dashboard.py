"""`ordo bench --section dashboard`: each dashboard figure, the work queue and the order list
over a million historic orders in PostgreSQL (a scratch database on the server named by
ORDO_BENCH_PG_URL, or the configured one when it is PostgreSQL). Times are p50/p95 of
repeated runs, each also as a ratio to one full scan of the orders table measured in the
same run (the cost the read models and roll-ups exist to avoid)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import text

from cli import history
from cli.bench.scratch_db import scratch_database, server_url
from cli.commands.catalogue import import_file
from cli.stack import DEMO_CATALOGUE
from domain.access import SYSTEM
from domain.kpis import KPIS, DashboardQuery
from domain.queries import OrderQuery
from services import dashboard, order_list, work_queue
from store.db import make_engine
from store.migrate import migrate

RUNS = 7
VIEWS = {"30 days": {}, "30 days, tmall": {"channel": "tmall"}, "90 days, gold": {"tier": "gold"}}


async def _timed(call: Callable[[], Awaitable[Any]]) -> list[float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


def _summary(times: list[float], scan: float) -> dict[str, float]:
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    return {"p50_ms": round(statistics.median(times) * 1000, 1), "p95_ms": round(p95 * 1000, 1),
            "p95_over_full_scan": round(p95 / scan, 3)}


async def run_dashboard_bench(orders: int, waiting: int, out_dir: Path, console: Console) -> dict[str, Any]:
    async with scratch_database(server_url("the dashboard bench"), "ordo_bench_dash") as url:
        await asyncio.to_thread(migrate, url)
        await import_file(DEMO_CATALOGUE, url)
        engine = make_engine(url, readonly=True)
        writer = make_engine(url)
        started = time.perf_counter()
        with Progress(TextColumn("history"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("seed", total=orders)
            await history.seed(writer, orders, 365, waiting, progress=lambda n: bar.update(task, completed=n))
        seeded = time.perf_counter() - started
        async with writer.begin() as conn:
            await conn.execute(text("ANALYZE"))
        await writer.dispose()

        async def full_scan() -> None:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT count(*), sum(total) FROM orders"))

        scan = statistics.median(await _timed(full_scan))
        today = dt.datetime.now(dt.UTC).date()
        figures: dict[str, dict[str, Any]] = {}
        for view, filters in VIEWS.items():
            q = DashboardQuery.last_days(today, 90 if "90" in view else 30, **filters)
            for kpi in KPIS:
                figures.setdefault(kpi, {})[view] = _summary(
                    await _timed(functools.partial(dashboard.figure, SYSTEM, engine, kpi, q)), scan)
        queue = _summary(await _timed(lambda: work_queue.waiting(SYSTEM, engine)), scan)
        listing = _summary(await _timed(lambda: order_list.search(
            SYSTEM, engine, OrderQuery(channel="jd", status="completed", per_page=50))), scan)
        await engine.dispose()
    worst = max(v["p95_ms"] for f in figures.values() for v in f.values())
    result = {"orders": orders, "waiting": waiting, "seed_seconds": round(seeded, 1),
              "full_scan_ms": round(scan * 1000, 1), "figures": figures, "work_queue": queue,
              "order_list": listing, "worst_figure_p95_ms": worst, "goal_p95_ms": 1000}
    table = Table("figure", *VIEWS, title=f"dashboard over {orders:,} orders: p95 ms (x full scan)")
    for kpi, views in figures.items():
        table.add_row(kpi, *(f"{v['p95_ms']} ({v['p95_over_full_scan']})" for v in views.values()))
    table.add_row("work queue", f"{queue['p95_ms']} ({queue['p95_over_full_scan']})", "", "")
    table.add_row("order list", f"{listing['p95_ms']} ({listing['p95_over_full_scan']})", "", "")
    console.print(table)
    console.print(f"full scan of orders: {result['full_scan_ms']} ms; seeding: {result['seed_seconds']} s")
    return result
