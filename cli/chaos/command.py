"""`ordo chaos`: `--scenario NAME[,NAME]|all --orders N` prints the table of what each fault
did and a JSON line, and exits 1 if any check failed; `--soak MINUTES` runs a steady load."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress

from cli.chaos.run import chaos_settings, report_table, run_scenario, running_stack, stamp
from cli.chaos.scenarios import BY_NAME, SCENARIOS
from cli.processes import StartupError
from config.settings import get_settings

console = Console(width=None if sys.stdout.isatty() else 120)  # a log keeps the whole table
err = Console(stderr=True)
NAMES = ", ".join(s.name for s in SCENARIOS)


async def _scenarios(names: list[str], orders: int, settle_within: float,
                     database_url: str) -> dict[str, Any]:
    var = get_settings().var_dir / "chaos" / f"run-{stamp()}"
    settings = chaos_settings(var, database_url)
    rows = []
    async with running_stack(settings, console) as ctx:
        with Progress(console=console, transient=True) as progress:
            for name in names:
                rows.append(await run_scenario(ctx, BY_NAME[name], orders, settle_within, progress))
                r = rows[-1]
                console.print(f"{name}: {r.get('skipped') or r.get('note') or 'done'}", markup=False)
        events = ctx.events
    result = {"at": stamp(), "database": settings.effective_database_url.split(":", 1)[0],
              "orders_per_scenario": orders, "scenarios": rows, "events": events,
              "violations": sum(r["violations"] for r in rows)}
    latest = var.parent / "latest.json"
    latest.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return result


def chaos(
    scenario: str = typer.Option("all", help=f"all, or names separated by commas: {NAMES}"),
    orders: int = typer.Option(40, min=1, help="orders each scenario sends"),
    settle_timeout: float = typer.Option(300, help="seconds for a scenario's orders to settle"),
    soak: float = typer.Option(0, help="instead: a steady load for this many minutes"),
    rate: float = typer.Option(0.75, help="with --soak: orders per second"),
    database_url: str = typer.Option(os.environ.get("ORDO_DATABASE_URL", ""), help="default: SQLite "
                                     "under var/chaos; a PostgreSQL URL also runs postgres-restart"),
) -> None:
    """Inject faults into a running stack and check that nothing was lost or doubled."""
    try:
        if soak:
            from cli.chaos.soak import run_soak
            soaked = asyncio.run(run_soak(soak, rate, database_url, console))
            if soaked["settled"] < soaked["orders"]:
                raise typer.Exit(1)
            return
        names = [s.name for s in SCENARIOS] if scenario == "all" else [n.strip() for n in scenario.split(",")]
        if unknown := [n for n in names if n not in BY_NAME]:
            err.print(f"--scenario: unknown {', '.join(unknown)}; choose from {NAMES} or all", style="red")
            raise typer.Exit(2)
        result = asyncio.run(_scenarios(names, orders, settle_timeout, database_url))
    except StartupError as exc:
        err.print(f"ordo chaos: {exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    console.print(report_table(result["scenarios"], f"ordo chaos --orders {orders} ({result['database']})"))
    for r in result["scenarios"]:
        for line in r.get("details", []):
            err.print(f"{r['scenario']}: {line}", style="red", markup=False)
    print(json.dumps({k: v for k, v in result.items() if k != "events"}, ensure_ascii=False), flush=True)
    if result["violations"]:
        raise typer.Exit(1)
