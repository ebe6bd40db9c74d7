"""The dashboard's figures, each one query over the read models the lifecycle writes (the
orders, their parcels and timelines, and the daily roll-ups), filtered by indexes. Rows
come back as plain dicts keyed by `domain.kpis.KPIS[id].columns`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.kpis import DashboardQuery
from domain.queries import WAITING
from domain.stats import percentile_cont
from store import tables as t
from store.order_search import created_between, day_start

o = t.orders.c
s = t.shipments.c
Rows = list[dict[str, Any]]
Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


def day_of(conn: AsyncConnection, column: Any) -> ColumnElement[str]:
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def _hours(conn: AsyncConnection, later: Any, earlier: Any) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _orders(q: DashboardQuery, query: Q, channels: Sequence[str], tier: bool = True) -> Q:
    """The orders a figure covers: received in the range, in the caller's channels and the
    chosen channel, warehouse (a parcel from it) and tier."""
    query = created_between(query, q.date_from, q.date_to)
    if channels:
        query = query.where(o.channel.in_(channels))
    if q.channel:
        query = query.where(o.channel == q.channel)
    if tier and q.tier:
        query = query.where(o.customer_tier == q.tier)
    if q.warehouse:
        query = query.where(exists().where(s.order_id == o.order_id, s.warehouse == q.warehouse))
    return query


def _rate(part: Any, whole: Any) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _round(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


async def orders_per_day(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    day = day_of(conn, o.created_at).label("day")
    rows = await conn.execute(_orders(q, select(day, o.channel, func.count()), channels)
                              .group_by(day, o.channel).order_by(day, o.channel))
    return [{"day": d, "channel": c, "orders": int(n)} for d, c, n in rows]


async def processing_time(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    day = day_of(conn, o.created_at).label("day")
    hours = _hours(conn, o.shipped_at, o.created_at)
    shipped = _orders(q, select(day, hours.label("h")), channels).where(o.shipped_at.is_not(None))
    if conn.dialect.name == "postgresql":
        inner = shipped.subquery()
        rows = await conn.execute(
            select(inner.c.day, func.count(), func.percentile_cont(0.5).within_group(inner.c.h),
                   func.percentile_cont(0.9).within_group(inner.c.h)).group_by(inner.c.day).order_by(inner.c.day))
        return [{"day": d, "orders": int(n), "p50_hours": _round(p50), "p90_hours": _round(p90)}
                for d, n, p50, p90 in rows]
    by_day: dict[str, list[float]] = defaultdict(list)
    for d, h in await conn.execute(shipped):
        by_day[d].append(float(h))
    return [{"day": d, "orders": len(v), "p50_hours": _round(percentile_cont(v, 0.5)),
             "p90_hours": _round(percentile_cont(v, 0.9))} for d, v in sorted(by_day.items())]


def ship_eligible(now: datetime) -> ColumnElement[bool]:
    """Judged: has a deadline, not cancelled, and shipped or past the deadline."""
    return and_(o.ship_by.is_not(None), o.status != "cancelled",
                (o.shipped_at.is_not(None)) | (o.ship_by < now))


async def on_time_ship(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    day = day_of(conn, o.created_at).label("day")
    on_time = func.sum(case((o.shipped_at <= o.ship_by, 1), else_=0))
    rows = await conn.execute(_orders(q, select(day, func.count(), on_time), channels)
                              .where(ship_eligible(datetime.now(UTC))).group_by(day).order_by(day))
    return [{"day": d, "eligible": int(n), "on_time": int(ok or 0), "rate": _rate(ok or 0, n)}
            for d, n, ok in rows]


async def on_time_delivery(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    on_time = func.sum(case((s.delivered_at <= s.promised_by, 1), else_=0))
    query = (select(s.carrier, func.count(), on_time, func.avg(s.fee))
             .select_from(t.shipments.join(t.orders, o.order_id == s.order_id))
             # delivered after the order was taken: the delivered_at index narrows the parcels
             .where(s.delivered_at >= day_start(q.date_from), s.promised_by.is_not(None)))
    if q.warehouse:  # this figure is about parcels: the warehouse is the parcel's own
        query = query.where(s.warehouse == q.warehouse)
    rows = await conn.execute(_orders(q.model_copy(update={"warehouse": None}), query, channels)
                              .group_by(s.carrier).order_by(s.carrier))
    return [{"carrier": c, "delivered": int(n), "on_time": int(ok or 0), "rate": _rate(ok or 0, n),
             "average_fee": _round(fee)} for c, n, ok, fee in rows]


async def fill_rate(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    units = select(func.coalesce(func.sum(o.units), 0), func.coalesce(func.sum(o.units_shipped), 0))
    ordered, shipped = (await conn.execute(_orders(q, units, channels))).one()
    return [{"units_ordered": int(ordered), "units_shipped": int(shipped), "rate": _rate(shipped, ordered)}]


async def exceptions(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    held = t.order_transitions.alias("held")
    later = t.order_transitions.alias("later")
    # the step after each hold: the first later one (same time: the one written after it)
    after = (select(func.min(later.c.at)).where(
        later.c.order_id == held.c.order_id,
        (later.c.at > held.c.at) | ((later.c.at == held.c.at) & (later.c.id > held.c.id))).scalar_subquery())
    query = (select(held.c.exception_type, _hours(conn, after, held.c.at))
             .select_from(held.join(t.orders, o.order_id == held.c.order_id))
             # a hold comes after the order was taken: the (status, at) index finds the range's holds
             .where(held.c.status.in_(WAITING), held.c.exception_type != "",
                    held.c.at >= day_start(q.date_from)))
    rows = await conn.execute(_orders(q, query, channels))
    by_type: dict[str, list[float | None]] = defaultdict(list)
    for kind, hours in rows:
        by_type[kind].append(None if hours is None else float(hours))
    out = []
    for kind, waits in sorted(by_type.items()):
        resolved = [w for w in waits if w is not None]
        out.append({"exception_type": kind, "count": len(waits), "resolved": len(resolved),
                    "median_hours": _round(percentile_cont(resolved, 0.5))})
    return out


async def cancel_refund(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    rma = t.returns.c
    refunded = exists().where(rma.order_id == o.order_id, rma.status == "refunded")
    n, cancelled, refunds = (await conn.execute(_orders(q, select(
        func.count(), func.sum(case((o.status == "cancelled", 1), else_=0)),
        func.sum(case((refunded, 1), else_=0))), channels))).one()
    return [{"orders": int(n), "cancelled": int(cancelled or 0), "cancel_rate": _rate(cancelled or 0, n),
             "refunded": int(refunds or 0), "refund_rate": _rate(refunds or 0, n)}]


async def top_sellers(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str],
                      limit: int = 20) -> Rows:
    d = t.sku_sales_daily.c
    units = func.sum(d.units).label("units")
    query = (select(d.sku, units, func.sum(d.revenue))
             .where(d.day >= q.date_from.isoformat(), d.day <= q.date_to.isoformat()))
    if channels:
        query = query.where(d.channel.in_(channels))
    if q.channel:
        query = query.where(d.channel == q.channel)
    rows = await conn.execute(query.group_by(d.sku).order_by(units.desc(), d.sku).limit(limit))
    return [{"sku": sku, "units": int(n), "revenue": _round(rev)} for sku, n, rev in rows]


async def slow_movers(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    d = t.sku_sales_daily.c
    st = t.stock.c
    cutoff = (q.date_to - timedelta(days=q.slow_days - 1)).isoformat()
    last = (select(d.sku, func.max(d.day).label("last_sold")).where(d.day <= q.date_to.isoformat())
            .group_by(d.sku).subquery())
    query = (select(st.sku, st.warehouse, st.on_hand, last.c.last_sold)
             .select_from(t.stock.outerjoin(last, last.c.sku == st.sku))
             .where(st.on_hand > 0, (last.c.last_sold.is_(None)) | (last.c.last_sold < cutoff)))
    if q.warehouse:
        query = query.where(st.warehouse == q.warehouse)
    rows = await conn.execute(query.order_by(st.on_hand.desc(), st.sku, st.warehouse))
    return [{"sku": sku, "warehouse": w, "on_hand": int(n), "last_sold": ls} for sku, w, n, ls in rows]


async def customer_value(conn: AsyncConnection, q: DashboardQuery, channels: Sequence[str]) -> Rows:
    c = t.customer_totals.c
    active = _orders(q.model_copy(update={"warehouse": None, "tier": None}), select(o.customer_id).distinct(),
                     channels)
    query = (select(c.tier, func.count(), func.avg(c.revenue), func.avg(c.orders * literal_column("1.0")),
                    func.sum(case((c.orders >= 2, 1), else_=0)))
             .where(c.customer_id.in_(active)))
    if q.tier:
        query = query.where(c.tier == q.tier)
    rows = await conn.execute(query.group_by(c.tier).order_by(c.tier))
    return [{"tier": tier, "customers": int(n), "lifetime_value": _round(value),
             "average_orders": _round(avg, 2), "repeat_rate": _rate(rep or 0, n)}
            for tier, n, value, avg, rep in rows]


Figure = Callable[[AsyncConnection, DashboardQuery, Sequence[str]], Awaitable[Rows]]
FIGURES: dict[str, Figure] = {
    "orders_per_day": orders_per_day, "processing_time": processing_time, "on_time_ship": on_time_ship,
    "on_time_delivery": on_time_delivery, "fill_rate": fill_rate, "exceptions": exceptions,
    "cancel_refund": cancel_refund, "top_sellers": top_sellers, "slow_movers": slow_movers,
    "customer_value": customer_value,
}


def decimal_free(rows: Rows) -> Rows:
    return [{k: float(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in rows]
