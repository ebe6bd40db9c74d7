"""`ordo inventory audit`, `show SKU` and `alerts`: the stock ledger for operators (the
commands that start workflows are in `cli/inventory_ops.py`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cli.commands.database import migrated_url
from cli.credentials import caller
from config.settings import get_settings
from domain.access import Principal
from domain.records import InventoryAlertRecord, StockMovementRecord
from services import inventory
from services.errors import NotFound
from services.inventory import Audit, Availability
from store.db import make_engine

inventory_app = typer.Typer(help="Stock: availability, movements, audit.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _run(work: Any) -> Any:
    url = migrated_url()

    async def go() -> Any:
        db = make_engine(url, readonly=True)
        try:
            return await work(await caller(get_settings(), db), db)
        finally:
            await db.dispose()

    return asyncio.run(go())


@inventory_app.command("audit")
def audit(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute every balance from the ledger and the held reservations; exit 1 on drift."""
    found: Audit = _run(inventory.audit)
    drifts = found.drift
    if as_json:
        print(json.dumps(found.model_dump(), ensure_ascii=False, indent=2))
    else:
        if drifts:
            table = Table("sku", "warehouse", "what differs")
            for d in drifts:
                table.add_row(d.sku, d.warehouse, d.what)
            console.print(table)
        console.print(
            f"{found.checked} stock balances checked against the ledger: "
            + (f"[red]{len(drifts)} drift(s)[/]" if drifts else "[green]no drift[/]")
        )
    if drifts:
        raise typer.Exit(1)


@inventory_app.command("show")
def show(
    sku: str = typer.Argument(..., help="e.g. COKE-330-24"),
    movements: int = typer.Option(10, help="latest movements to list"),
) -> None:
    """Availability per warehouse and the latest movements of one SKU."""

    async def work(who: Principal, db: Any) -> tuple[Availability, list[StockMovementRecord]]:
        return (await inventory.availability(who, db, sku, get_settings().channel_buffers),
                await inventory.movements(who, db, sku, movements))

    try:
        found, moves = _run(work)
    except NotFound as exc:
        err.print(f"{exc.message} (`ordo catalog import` loads stock)", style="red")
        raise typer.Exit(1) from None
    table = Table(
        "warehouse", "on hand", "reserved", "safety stock", "available", "in transit", "defective", title=sku
    )
    for lv in found.warehouses:
        table.add_row(lv.warehouse, str(lv.on_hand), str(lv.reserved), str(lv.safety_stock),
                      str(lv.available), str(lv.in_transit), str(lv.defective))
    console.print(table)
    recent = Table(
        "when", "warehouse", "kind", "on hand", "reserved", "defective", "reference", title="latest movements"
    )
    for m in moves:
        recent.add_row(f"{m.created_at:%Y-%m-%d %H:%M:%S}", m.warehouse, m.kind, f"{m.on_hand_delta:+d}",
                       f"{m.reserved_delta:+d}", f"{m.defective_delta:+d}", m.reference)
    console.print(recent)


@inventory_app.command("alerts")
def alerts(limit: int = typer.Option(20, help="latest alerts to list")) -> None:
    """Drift corrected beyond the threshold, drift that could not be corrected, overdue transfers."""

    async def work(who: Principal, db: Any) -> list[InventoryAlertRecord]:
        return await inventory.alerts(who, db, limit)

    rows = _run(work)
    table = Table("when", "kind", "sku", "warehouse", "detail", title="inventory alerts")
    for r in rows:
        table.add_row(f"{r.created_at:%Y-%m-%d %H:%M:%S}", r.kind, r.sku, r.warehouse, r.detail)
    console.print(table if rows else "[green]no inventory alerts[/]")
