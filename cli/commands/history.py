"""`ordo history seed|clear`: months of past orders for the dashboard (see cli/history.py)."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli import history
from cli.commands.database import migrated_url
from store.db import make_engine

history_app = typer.Typer(
    help="Past orders for the dashboard: seed them, or clear them.", no_args_is_help=True
)
err = Console(stderr=True)


async def _seed(url: str, orders: int, days: int, waiting: int) -> int:
    engine = make_engine(url)
    try:
        with Progress(
            TextColumn("writing history"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("seed", total=orders)
            return await history.seed(
                engine, orders, days, waiting, progress=lambda n: bar.update(task, completed=n)
            )
    finally:
        await engine.dispose()


@history_app.command("seed")
def seed(
    orders: int = typer.Option(3000, min=1, help="orders to write"),
    days: int = typer.Option(90, min=1, max=3650, help="spread over this many days up to now"),
    waiting: int = typer.Option(0, min=0, help="this many of them left waiting for a person"),
) -> None:
    """Write past orders straight into the read models (ids `<channel>-H0000001`)."""
    url = migrated_url()
    try:
        written = asyncio.run(_seed(url, orders, days, waiting))
    except ValueError as exc:
        err.print(f"ordo history seed: {exc}", style="red")
        raise typer.Exit(2) from None
    print(json.dumps({"orders": written, "days": days, "waiting": waiting}))


@history_app.command("clear")
def clear() -> None:
    """Remove the seeded history; orders that went through Ordo stay."""
    url = migrated_url()

    async def run() -> int:
        engine = make_engine(url)
        try:
            return await history.clear(engine)
        finally:
            await engine.dispose()

    print(json.dumps({"removed": asyncio.run(run())}))
