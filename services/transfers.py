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
from domain.records import TransferRecord
from domain.stock_messages import TransferRequest, transfer_workflow_id
from services.temporal import LazyTemporal
from store import transfers


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


async def start_transfer(temporal: LazyTemporal, order: TransferOrder) -> Started:
    req = TransferRequest(transfer_id=order.transfer_id or f"TR-{uuid.uuid4().hex[:10]}", sku=order.sku,
                          from_warehouse=order.from_warehouse, to_warehouse=order.to_warehouse,
                          quantity=order.quantity, reason=order.reason)
    client = await temporal.client()
    workflow_id = transfer_workflow_id(req.transfer_id)
    with contextlib.suppress(WorkflowAlreadyStartedError):  # the same transfer id again: one transfer
        await client.start_workflow("TransferWorkflow", req, id=workflow_id, task_queue=queues.ORDERS,
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    return Started(transfer_id=req.transfer_id, workflow_id=workflow_id)


async def listing(db: AsyncEngine, limit: int) -> list[TransferRecord]:
    return await transfers.listing(db, max(1, min(limit, 1000)))
