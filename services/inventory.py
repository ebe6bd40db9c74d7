"""Reading stock: a SKU's levels per warehouse and channel, and the alerts for people."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from config import queues
from domain.access import Permission, Principal
from domain.records import InventoryAlertRecord, StockLevel, StockMovementRecord, WarehouseStock
from domain.stock_messages import ReconcileReport, ReconcileRequest
from services.access import require
from services.errors import Forbidden, NotFound
from services.temporal import LazyTemporal
from store import ledger, reconcile


class Availability(BaseModel):
    """A SKU's stock: per warehouse, the totals, and what each channel with an allocation
    buffer may still sell (available less its buffer)."""

    sku: str
    warehouses: list[WarehouseStock]
    available: int
    in_transit: int
    defective: int
    available_by_channel: dict[str, int]
    channel_buffers: dict[str, int]


async def availability(who: Principal, db: AsyncEngine, sku: str, buffers: dict[str, int]) -> Availability:
    """The warehouses in the caller's scope only."""
    require(who, Permission.INVENTORY_READ)
    levels = [lv for lv in await ledger.availability(db, sku, buffers) if who.sees_warehouse(lv.warehouse)]
    if not levels:
        raise NotFound(f"no stock of '{sku}' anywhere; check the SKU")
    return Availability(
        sku=sku, warehouses=levels, available=sum(lv.available for lv in levels),
        in_transit=sum(lv.in_transit for lv in levels), defective=sum(lv.defective for lv in levels),
        available_by_channel={ch: sum(lv.by_channel[ch] for lv in levels) for ch in sorted(buffers)},
        channel_buffers=buffers,
    )


async def movements(who: Principal, db: AsyncEngine, sku: str, limit: int) -> list[StockMovementRecord]:
    require(who, Permission.INVENTORY_READ)
    return [m for m in await ledger.movements(db, sku, limit) if who.sees_warehouse(m.warehouse)]


async def alerts(who: Principal, db: AsyncEngine, limit: int) -> list[InventoryAlertRecord]:
    """Drift corrected beyond the threshold, drift that could not be corrected, overdue
    transfers; newest first."""
    require(who, Permission.INVENTORY_READ)
    return await reconcile.alerts(db, max(1, min(limit, 1000)))


class DriftEntry(BaseModel):
    sku: str
    warehouse: str
    what: str  # e.g. "on hand 12, ledger says 10"


class Audit(BaseModel):
    """Every stock balance recomputed from the ledger and the held reservations."""

    checked: int
    drift: list[DriftEntry]
    movements: int  # ledger rows so far


async def audit(who: Principal, db: AsyncEngine) -> Audit:
    require(who, Permission.INVENTORY_READ)
    checked, drifts = await ledger.audit(db)
    return Audit(checked=checked, movements=await ledger.movement_count(db),
                 drift=[DriftEntry(sku=d.sku, warehouse=d.warehouse, what=d.describe()) for d in drifts])


async def reconcile_now(who: Principal, temporal: LazyTemporal, req: ReconcileRequest) -> ReconcileReport:
    """Compare the WMS's stock with the ledger now and correct drift, as the schedule does;
    answers once the reconciliation has finished (it waits `confirm_seconds` itself). It
    covers every warehouse, so a caller limited to some may not start it."""
    require(who, Permission.INVENTORY_WRITE)
    if who.warehouses:
        raise Forbidden("a reconciliation covers every warehouse; yours is limited to "
                        f"{', '.join(who.warehouses)}", permission=Permission.INVENTORY_WRITE.value)
    client = await temporal.client()
    return await client.execute_workflow(
        "ReconcileWorkflow", req, id=f"inventory-reconcile-now-{uuid.uuid4().hex[:8]}",
        task_queue=queues.ORDERS, result_type=ReconcileReport)


async def levels(who: Principal, db: AsyncEngine, low_line: int, sku: str = "",
                 low_only: bool = False) -> list[StockLevel]:
    """Every SKU at the caller's warehouses, the lowest first."""
    require(who, Permission.INVENTORY_READ)
    return await ledger.stock_levels(db, who.warehouses, low_line, sku, low_only)
