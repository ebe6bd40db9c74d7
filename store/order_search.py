"""The order list behind the console's Orders page and the dashboard's links: filters that
an index answers (channel + created_at, status, customer), paging, and the CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.queries import OrderPage, OrderQuery, OrderRow
from store import tables as t
from store.db import utc

o = t.orders.c
Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]
COLUMNS = (o.order_id, o.channel, o.status, o.priority, o.customer_id, o.customer_tier, o.exception_type,
           o.total, o.currency, o.units, o.created_at, o.ship_by, o.shipped_at)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def created_between(query: Q, since: date | None, until: date | None) -> Q:
    """Days are whole UTC days: `until` includes all of that day."""
    if since:
        query = query.where(o.created_at >= day_start(since))
    if until:
        query = query.where(o.created_at < day_start(until + timedelta(days=1)))
    return query


def filtered(query: Q, q: OrderQuery, channels: Sequence[str] = ()) -> Q:
    """`channels`: the caller's scope (empty: every channel)."""
    if channels:
        query = query.where(o.channel.in_(channels))
    for column, value in ((o.channel, q.channel), (o.status, q.status), (o.priority, q.priority),
                          (o.customer_tier, q.tier), (o.exception_type, q.exception_type),
                          (o.customer_id, q.customer_id)):
        if value:
            query = query.where(column == value)
    query = created_between(query, q.date_from, q.date_to)
    if q.min_total is not None:
        query = query.where(o.total >= q.min_total)
    if q.max_total is not None:
        query = query.where(o.total <= q.max_total)
    if q.order_id:
        query = query.where(o.order_id.startswith(q.order_id, autoescape=True))
    if q.sku:
        lines = t.order_lines.c
        query = query.where(exists().where(lines.order_id == o.order_id, lines.sku == q.sku))
    if q.warehouse:
        query = query.where(exists().where(t.shipments.c.order_id == o.order_id,
                                           t.shipments.c.warehouse == q.warehouse))
    if q.shipped == "yes":
        query = query.where(o.shipped_at.is_not(None))
    elif q.shipped == "late":
        overdue = and_(o.shipped_at.is_(None), o.ship_by < datetime.now(UTC), o.status != "cancelled")
        query = query.where(o.ship_by.is_not(None), or_(o.shipped_at > o.ship_by, overdue))
    elif q.shipped == "on_time":
        query = query.where(o.shipped_at.is_not(None), o.shipped_at <= o.ship_by)
    if q.refunded:
        rma = t.returns.c
        query = query.where(exists().where(rma.order_id == o.order_id, rma.status == "refunded"))
    return query


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return utc(value).isoformat()


def _row(r: Any) -> OrderRow:
    return OrderRow(**{**r._mapping, "created_at": _iso(r.created_at), "ship_by": _iso(r.ship_by),
                       "shipped_at": _iso(r.shipped_at)})


async def search(engine: AsyncEngine, q: OrderQuery, channels: Sequence[str] = ()) -> OrderPage:
    """Newest first."""
    base = filtered(select(*COLUMNS), q, channels)
    async with engine.connect() as conn:
        counted = filtered(select(func.count()).select_from(t.orders), q, channels)
        total = (await conn.execute(counted)).scalar_one()
        rows = await conn.execute(base.order_by(o.created_at.desc(), o.order_id)
                                  .limit(q.per_page).offset((q.page - 1) * q.per_page))
        return OrderPage(rows=[_row(r) for r in rows], total=int(total), page=q.page, per_page=q.per_page)


async def export(engine: AsyncEngine, q: OrderQuery, channels: Sequence[str] = (),
                 batch: int = 2000) -> AsyncIterator[OrderRow]:
    """Every matching order, newest first, read in batches so an export of a year stays small in memory."""
    async with engine.connect() as conn:
        result = await conn.stream(filtered(select(*COLUMNS), q, channels)
                                   .order_by(o.created_at.desc(), o.order_id)
                                   .execution_options(yield_per=batch))
        async for r in result:
            yield _row(r)
