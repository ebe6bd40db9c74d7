"""Returns' own bookkeeping: the RMA row the API reads, and restocking through the ledger."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from domain.returns import RestockRequest, ReturnState
from store import returns as return_store


class ReturnActivities:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    @activity.defn(name="record_return")
    async def record_return(self, state: ReturnState) -> None:
        await return_store.save_state(self.db, state)

    @activity.defn(name="restock_return")
    async def restock(self, req: RestockRequest) -> str:
        """A receipt of type THRK in the ledger, once per RMA and SKU (`applied` or `duplicate`);
        the units are available to orders again at once."""
        return await return_store.book_restock(self.db, req.rma, req.warehouse, req.sku, req.quantity)
