"""The dashboard's daily roll-ups, kept up to date in the transaction that stores an order,
so a figure over a year of orders reads a few thousand roll-up rows, not millions of lines.
One upsert each (INSERT ... ON CONFLICT DO UPDATE), atomic on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Order
from store import tables as t


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """INSERT that can take ON CONFLICT DO UPDATE, in the connection's dialect."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


async def add_order(conn: AsyncConnection, order: Order, at: Any) -> None:
    """Count a newly stored order in the SKU-day and customer roll-ups (`at`: its created_at)."""
    day = at.strftime("%Y-%m-%d")
    per_sku: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for line in order.lines:
        per_sku[line.sku][0] += line.quantity
        per_sku[line.sku][1] += line.quantity * line.unit_price
    for sku, (units, revenue) in sorted(per_sku.items()):  # sorted: concurrent upserts lock in one order
        stmt = upsert(conn, t.sku_sales_daily).values(day=day, sku=sku, channel=order.channel,
                                                        units=units, revenue=revenue)
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["day", "sku", "channel"],
            set_={"units": t.sku_sales_daily.c.units + stmt.excluded.units,
                  "revenue": t.sku_sales_daily.c.revenue + stmt.excluded.revenue}))
    stmt = upsert(conn, t.customer_totals).values(
        customer_id=order.customer.id, tier=order.customer.tier.value, orders=1, revenue=order.total,
        first_at=at, last_at=at)
    c = t.customer_totals.c
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={"orders": c.orders + 1, "revenue": c.revenue + stmt.excluded.revenue,
              "tier": stmt.excluded.tier, "last_at": stmt.excluded.last_at}))
