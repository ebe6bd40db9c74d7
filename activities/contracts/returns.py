"""The returns' own bookkeeping in the OMS database: local activities in the orders worker."""

from __future__ import annotations

from activities.contracts.base import Activity
from config import queues
from domain.returns import ReturnedUnits, ReturnState

Q = queues.ORDERS
RECORD_RETURN = Activity("record_return", ReturnState, type(None), Q, local=True)
BOOK_RETURNED_UNITS = Activity("book_returned_units", ReturnedUnits, str, Q, local=True)
