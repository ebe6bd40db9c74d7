"""The order list: search with filters and paging, and the CSV export (which is audited:
a file of orders leaves the system)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Permission, Principal
from domain.queries import OrderPage, OrderQuery, OrderRow
from services.access import require
from services.audit import Audit
from store import order_search

CSV_COLUMNS = list(OrderRow.model_fields)


async def search(who: Principal, db: AsyncEngine, query: OrderQuery) -> OrderPage:
    require(who, Permission.ORDERS_READ)
    return await order_search.search(db, query, who.channels)


async def export_csv(who: Principal, db: AsyncEngine, audit: Audit, query: OrderQuery) -> AsyncIterator[str]:
    """Header then rows, as text chunks for a streamed response."""
    require(who, Permission.ORDERS_READ)
    require(who, Permission.EXPORTS)
    await audit.write(who, "orders.export", "", filters=query.model_dump(mode="json", exclude_none=True,
                                                                         exclude={"page", "per_page"}))
    return _rows(db, query, who.channels)


async def _rows(db: AsyncEngine, query: OrderQuery, channels: tuple[str, ...]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    count = 0
    async for row in order_search.export(db, query, channels):
        writer.writerow([getattr(row, c) if getattr(row, c) is not None else "" for c in CSV_COLUMNS])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
