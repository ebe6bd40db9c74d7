"""`ordo inventory reconcile | rebalance | transfer | schedule`: the inventory workflows, run
now from the command line (the schedules run the first two on their own)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import typer
from rich.table import Table

from cli.commands.database import migrated_url
from cli.commands.inventory import console, err, inventory_app
from cli.credentials import authorised, refused
from config import queues
from config.settings import get_settings
from config.temporal import connect
from domain.access import Permission
from domain.stock_messages import ReconcileReport, ReconcileRequest
from services import inventory as inventory_service
from services.audit import Audit
from services.errors import Invalid, ServiceError
from services.temporal import LazyTemporal
from services.transfers import Started, TransferOrder, start_transfer
from store.db import make_engine
from workflows.inventory import RebalanceWorkflow
from workflows.schedules import ensure_schedules


def _temporal(work: Any) -> Any:
    settings = get_settings()
    authorised(settings, Permission.INVENTORY_WRITE)

    async def go() -> Any:
        try:
            client = await connect(settings)
        except Exception as exc:
            err.print(
                f"cannot reach Temporal at {settings.temporal_address}: {exc}. Start Ordo with "
                "`make run` (or `ordo up`), or set ORDO_TEMPORAL_ADDRESS.",
                style="red",
            )
            raise typer.Exit(2) from exc
        return await work(client)

    return asyncio.run(go())


@inventory_app.command("reconcile")
def reconcile_now(
    confirm_seconds: float = typer.Option(None, help="wait between the two snapshots (default: setting)"),
) -> None:
    """Compare the WMS's stock with the ledger now and correct drift (as the schedule does)."""
    settings = get_settings()
    req = ReconcileRequest(
        confirm_seconds=settings.reconcile_confirm_seconds if confirm_seconds is None else confirm_seconds,
        alert_units=settings.drift_alert_units,
    )
    who = authorised(settings, Permission.INVENTORY_WRITE)
    with console.status(f"reconciling (differences must still be there after {req.confirm_seconds:g}s)..."):
        try:
            report: ReconcileReport = asyncio.run(
                inventory_service.reconcile_now(who, LazyTemporal(settings), req))
        except ServiceError as exc:
            refused(exc)
    if report.corrected or report.refused:
        table = Table("sku", "warehouse", "Ordo expected", "WMS counts", "correction", title="drift")
        for d in report.corrected:
            table.add_row(d.sku, d.warehouse, str(d.ordo), str(d.wms), f"{d.delta:+d}")
        console.print(table)
    console.print(
        f"{report.checked} balances compared; {report.seen} differed, {report.transient} were stock "
        f"in motion, {len(report.corrected)} corrected, {len(report.refused)} not correctable, "
        f"{report.alerts} alert(s)"
    )
    for reason in report.refused:
        err.print(f"not corrected: {reason} (see `ordo inventory alerts`)", style="red")
    if report.refused:
        raise typer.Exit(1)


@inventory_app.command("rebalance")
def rebalance_now() -> None:
    """Ask rules/transfers.yaml about every region with backorders now and start the transfers."""
    report = _temporal(
        lambda c: c.execute_workflow(
            RebalanceWorkflow.run,
            id=f"inventory-rebalance-cli-{uuid.uuid4().hex[:8]}",
            task_queue=queues.ORDERS,
        )
    )
    for tr in report.transfers:
        console.print(
            f"transfer {tr.transfer_id}: {tr.quantity} x {tr.sku} {tr.from_warehouse} -> "
            f"{tr.to_warehouse} ({tr.reason})"
        )
    if not report.transfers:
        console.print("no transfer called for")


@inventory_app.command("transfer")
def transfer(
    sku: str,
    from_warehouse: str,
    to_warehouse: str,
    quantity: int = typer.Argument(..., min=1),
    reason: str = typer.Option("by an operator", help="kept with the transfer"),
) -> None:
    """Move stock between warehouses (调拨) through the WMS; in transit until it is received."""
    order = TransferOrder(sku=sku, from_warehouse=from_warehouse, to_warehouse=to_warehouse,
                          quantity=quantity, reason=reason)
    settings = get_settings()
    url = migrated_url()

    who = authorised(settings, Permission.INVENTORY_WRITE)

    async def go() -> Started:
        db = make_engine(url)
        try:
            return await start_transfer(who, db, LazyTemporal(settings), Audit(db, db, settings), order)
        finally:
            await db.dispose()

    try:
        started = asyncio.run(go())
    except Invalid as exc:
        for e in exc.errors or []:
            err.print(f"{e.field}: {e.reason}", style="red")
        raise typer.Exit(1) from None
    console.print(
        f"transfer {started.transfer_id} started; follow it with `ordo inventory show {sku}` or in the "
        f"Temporal UI (workflow {started.workflow_id})"
    )


@inventory_app.command("schedule")
def schedule() -> None:
    """Create or update the reconciliation and rebalancing schedules from the settings."""
    ids = _temporal(lambda c: ensure_schedules(c, get_settings()))
    console.print("schedules in place: " + ", ".join(ids) if ids else
                  "ORDO_INVENTORY_SCHEDULES is false: the inventory schedules are removed")
