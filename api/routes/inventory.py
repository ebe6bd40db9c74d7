"""Stock for people: availability, alerts, and transfers (调拨) by hand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.security import Caller
from domain.stock_messages import ReconcileRequest
from services import inventory, transfers
from services.transfers import TransferOrder

router = APIRouter()


@router.get("/v1/inventory")
async def availability(sku: str, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Real-time availability of a SKU per warehouse: on hand, reserved, safety stock,
    available (= on hand - reserved - safety stock), in transit (visible, not yet
    promised), defective (returned units graded CC, held for refurbishing, never sold),
    per channel (less the channel's allocation buffer), and the totals."""
    found = await inventory.availability(who, services.read_db, sku, services.settings.channel_buffers)
    return found.model_dump(mode="json")


@router.get("/v1/inventory/audit")
async def audit(services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Every balance recomputed from the ledger and the held reservations: `drift` lists each
    one that disagrees (empty: none); `movements` counts the ledger's rows."""
    return (await inventory.audit(who, services.read_db)).model_dump()


@router.post("/v1/inventory/reconcile")
async def reconcile(services: ServicesDep, who: Caller,
                    body: ReconcileRequest | None = None) -> dict[str, Any]:
    """Compare the WMS's stock with the ledger now and correct confirmed drift, as the
    schedule does; answers when done (at least `confirm_seconds` later)."""
    req = body or ReconcileRequest(confirm_seconds=services.settings.reconcile_confirm_seconds,
                                   alert_units=services.settings.drift_alert_units)
    return (await inventory.reconcile_now(who, services.temporal, req)).model_dump(mode="json")


@router.get("/v1/inventory/alerts")
async def alerts(services: ServicesDep, who: Caller, limit: int = 100) -> dict[str, Any]:
    """Drift corrected beyond the threshold, drift that could not be corrected, overdue transfers."""
    found = await inventory.alerts(who, services.read_db, limit)
    return {"alerts": [a.model_dump(mode="json") for a in found]}


@router.post("/v1/inventory/transfers", status_code=202)
async def start_transfer(body: TransferOrder, services: ServicesDep, who: Caller) -> JSONResponse:
    """Move stock between warehouses (调拨): starts a TransferWorkflow; the stock is in
    transit (visible, not reservable) until the destination's WMS confirms it. An unknown
    SKU or warehouse, or the same warehouse twice, is 422 naming the field."""
    started = await transfers.start_transfer(who, services.db, services.temporal, services.audit, body)
    return JSONResponse(started.model_dump(), status_code=202)


@router.get("/v1/inventory/transfers")
async def transfer_list(services: ServicesDep, who: Caller, limit: int = 100) -> dict[str, Any]:
    found = await transfers.listing(who, services.read_db, limit)
    return {"transfers": [r.model_dump(mode="json") for r in found]}


@router.get("/v1/inventory/levels")
async def levels(services: ServicesDep, who: Caller, sku: str = "", low: bool = False) -> dict[str, Any]:
    """Every SKU at every warehouse in your scope, the least available first: on hand,
    reserved, safety stock, available, in transit, defective, and `low` at or below the
    low-stock line (`ORDO_LOW_STOCK_UNITS`). `sku`: a SKU or its start; `low`: only low rows."""
    found = await inventory.levels(who, services.read_db, services.settings.low_stock_units, sku, low)
    return {"low_stock_units": services.settings.low_stock_units, "levels": [x.model_dump() for x in found]}


@router.get("/v1/inventory/movements")
async def movements(sku: str, services: ServicesDep, who: Caller, limit: int = 100) -> dict[str, Any]:
    """The ledger of one SKU, newest first: every change of its stock and why."""
    found = await inventory.movements(who, services.read_db, sku, max(1, min(limit, 1000)))
    return {"movements": [m.model_dump(mode="json") for m in found]}
