"""Returns' own bookkeeping: the RMA row the API reads, and returned units in the ledger."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.contracts import returns as contract
from domain.returns import ReturnedUnits, ReturnState
from store import returns as return_store


class ReturnActivities:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    @activity.defn(name=contract.RECORD_RETURN.name)
    async def record_return(self, state: ReturnState) -> None:
        await return_store.save_state(self.db, state)

    @activity.defn(name=contract.BOOK_RETURNED_UNITS.name)
    async def book_returned_units(self, units: ReturnedUnits) -> str:
        """Sellable units on hand (available to orders at once), defective ones held for
        refurbishing, once per RMA, SKU and grade (`applied`, `duplicate` or `not booked`)."""
        return await return_store.book_returned_units(self.db, units)
