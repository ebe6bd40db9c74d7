"""Moving stock between warehouses (调拨) by hand: one TransferWorkflow per transfer id, so
a retried request is one transfer; the stock is in transit until the destination's WMS
confirms it."""

from __future__ import annotations

import contextlib
import uuid

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from config import queues
from domain.access import Permission, Principal
from domain.errors import FieldError
from domain.records import TransferRecord
from domain.stock_messages import TransferRequest, transfer_workflow_id
from services.access import require, require_warehouses
from services.audit import Audit
from services.errors import Invalid
from services.temporal import LazyTemporal
from store import catalog, transfers


class TransferOrder(BaseModel):
    sku: str = Field(min_length=1)
    from_warehouse: str = Field(min_length=1)
    to_warehouse: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    reason: str = "by an operator"
    transfer_id: str = Field("", max_length=90, description="optional: makes a retried request one transfer")


class Started(BaseModel):
    transfer_id: str
    workflow_id: str


async def check_transfer(db: AsyncEngine, order: TransferOrder) -> None:
    """Invalid, naming each field, for a SKU or warehouse Ordo does not know or a transfer
    from a warehouse to itself: nothing is booked and no workflow starts."""
    async with db.connect() as conn:
        known_sku = bool(await catalog.products_by_sku(conn, [order.sku]))
        warehouses = {w.code for w in await catalog.all_warehouses(conn)}
    errors = []
    if not known_sku:
        errors.append(FieldError(field="sku", reason=f"unknown SKU '{order.sku}': not in the catalogue"))
    for name in ("from_warehouse", "to_warehouse"):
        if (code := getattr(order, name)) not in warehouses:
            errors.append(FieldError(field=name, reason=f"unknown warehouse '{code}'; Ordo has "
                                     f"{', '.join(sorted(warehouses))}"))
    if order.from_warehouse == order.to_warehouse:
        errors.append(FieldError(field="to_warehouse", reason="a transfer moves stock between two "
                                 f"warehouses; both are '{order.to_warehouse}'"))
    if errors:
        raise Invalid("the transfer was refused; nothing was booked", errors)


async def start_transfer(who: Principal, db: AsyncEngine, temporal: LazyTemporal, audit: Audit,
                         order: TransferOrder) -> Started:
    """Both warehouses must be in the caller's scope; the transfer is in the audit trail."""
    require_warehouses(who, Permission.INVENTORY_WRITE, order.from_warehouse, order.to_warehouse)
    await check_transfer(db, order)
    req = TransferRequest(transfer_id=order.transfer_id or f"TR-{uuid.uuid4().hex[:10]}", sku=order.sku,
                          from_warehouse=order.from_warehouse, to_warehouse=order.to_warehouse,
                          quantity=order.quantity, reason=order.reason)
    client = await temporal.client()
    workflow_id = transfer_workflow_id(req.transfer_id)
    with contextlib.suppress(WorkflowAlreadyStartedError):  # the same transfer id again: one transfer
        await client.start_workflow("TransferWorkflow", req, id=workflow_id, task_queue=queues.ORDERS,
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    await audit.write(who, "transfer.started", req.transfer_id, sku=req.sku, quantity=req.quantity,
                      from_warehouse=req.from_warehouse, to_warehouse=req.to_warehouse, reason=req.reason)
    return Started(transfer_id=req.transfer_id, workflow_id=workflow_id)


async def listing(who: Principal, db: AsyncEngine, limit: int) -> list[TransferRecord]:
    """Transfers touching a warehouse in the caller's scope."""
    require(who, Permission.INVENTORY_READ)
    found = await transfers.listing(db, max(1, min(limit, 1000)))
    return [r for r in found if who.sees_warehouse(r.from_warehouse) or who.sees_warehouse(r.to_warehouse)]
