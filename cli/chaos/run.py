"""Run chaos scenarios on one embedded stack of their own (ports and var/ apart from
`ordo up`), restarting what they kill as `ordo up` does, and report what the checks found."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cli.chaos.invariants import check
from cli.chaos.load import SKUS, Load
from cli.chaos.scenarios import Chaos, Scenario
from cli.commands.up import MAX_RESTARTS, RESTART_WINDOW_SECONDS
from cli.demo.api import OrdoApi
from cli.processes import Supervisor
from cli.stack import isolated_settings, prepare_database, start_stack
from config.settings import Settings
from config.temporal import connect
from domain.model import Catalogue, StockLevel
from store.catalog import import_catalogue
from store.db import make_engine

WAREHOUSES = ("SH-01", "GZ-01", "BJ-01", "CD-01")
API_TRIES = 480  # an order is re-sent for up to four minutes (a Temporal or database restart)


def chaos_settings(var: Path, database_url: str) -> Settings:
    return isolated_settings(var, database_url=database_url, inventory_schedules=False,
                             http_timeout_seconds=3.0)  # a held answer is given up on in 3 s, not 10


async def _keep_alive(ctx: Chaos) -> None:
    """What `ordo up` does for a crashed child, so a killed one comes back (but one a
    scenario holds down for a while)."""
    while True:
        for child in ctx.sup.restart_dead(MAX_RESTARTS, RESTART_WINDOW_SECONDS, frozenset(ctx.held)):
            ctx.events.append(f"restarted {child.name}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_stack(settings: Settings, console: Console) -> AsyncIterator[Chaos]:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    await prepare_database(settings, console)
    engine = make_engine(settings.effective_database_url)
    try:  # plenty of stock: the scenarios test faults, not shortages
        await import_catalogue(engine, Catalogue(stock=[StockLevel(sku=s, warehouse=w, on_hand=100_000)
                                                        for s in SKUS for w in WAREHOUSES]))
    finally:
        await engine.dispose()
    sup = Supervisor(settings.var_dir / "logs")
    db = make_engine(settings.effective_database_url, readonly=True)
    try:
        with console.status("starting the embedded stack for chaos..."):
            await start_stack(sup, settings, sim_failure_rate=0.0, tracking_step=0.2)
        async with httpx.AsyncClient(timeout=30) as http:
            ctx = Chaos(settings, sup, OrdoApi(settings, http, tries=API_TRIES), db, await connect(settings))
            keeper = asyncio.create_task(_keep_alive(ctx))
            try:
                yield ctx
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper  # a crash-looping child's StartupError surfaces here
    finally:
        await db.dispose()
        sup.stop()


async def run_scenario(ctx: Chaos, sc: Scenario, orders: int, settle_within: float,
                       progress: Progress) -> dict[str, Any]:
    row: dict[str, Any] = {"scenario": sc.name, "submitted": orders, "acknowledged": 0, "settled": 0,
                           "stuck": 0, "violations": 0, "seconds": 0.0, "proves": sc.proves}
    if why := sc.cannot_run(ctx.settings):
        return {**row, "submitted": 0, "skipped": why}
    tag = f"{sc.name}-{uuid.uuid4().hex[:4]}"
    load = Load(ctx.api, tag, orders, copies=sc.copies)
    started = time.monotonic()
    task = progress.add_task(f"{sc.name}: sending", total=orders)
    notes = [await sc.before(ctx, load, orders)]
    try:
        during = asyncio.create_task(sc.during(ctx, load, orders))
        sending = asyncio.create_task(load.run())
        while not sending.done():
            progress.update(task, completed=load.answered)
            await asyncio.sleep(0.2)
        await sending
        notes.append(await during)
        progress.update(task, description=f"{sc.name}: settling", completed=0)
        await ctx.settle(load.acknowledged, settle_within,
                         lambda done: progress.update(task, completed=done, total=orders))
    finally:
        notes.append(await sc.after(ctx, load, orders))
    findings = await check(ctx.settings, ctx.db, ctx.client, load.sent, f"chaos-{tag}-")
    violations = findings.violations + [f"{oid}: not settled after {settle_within:.0f}s ({s})"
                                        for oid, s in sorted(findings.stuck.items())]
    progress.update(task, visible=False)
    return {**row, "acknowledged": sum(1 for s in load.sent.values() if s.order_ids),
            "settled": findings.settled, "stuck": len(findings.stuck), "violations": len(violations),
            "seconds": round(time.monotonic() - started, 1), "note": "; ".join(n for n in notes if n),
            "cancel_asked": sum(1 for s in load.sent.values() if s.cancel_asked),
            "by_status": findings.by_status,
            "details": violations[:25]}


def report_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for col in ("scenario", "submitted", "acknowledged", "settled", "stuck", "violations", "seconds"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for r in rows:
        if "skipped" in r:
            table.add_row(r["scenario"], "-", "-", "-", "-", "-", f"skipped: {r['skipped']}")
            continue
        bad = "red" if r["violations"] else "green"
        table.add_row(r["scenario"], str(r["submitted"]), str(r["acknowledged"]), str(r["settled"]),
                      str(r["stuck"]), f"[{bad}]{r['violations']}[/]", f"{r['seconds']:.0f}")
    return table


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")
