"""Each dashboard figure as one plain SQL query written from its definition, straight on the
base tables (order lines, not the roll-ups): the tests hold the dashboard to these. Where a
figure is a percentile, its tests use golden values instead (SQLite has no percentile_cont)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def _day(dialect: str, column: str) -> str:
    return (
        f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        if dialect == "postgresql"
        else f"strftime('%Y-%m-%d', {column})"
    )


def _num(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


async def direct(
    engine: AsyncEngine, figure: str, since: dt.date, until: dt.date, slow_days: int = 30
) -> list[tuple[Any, ...]]:
    d = engine.dialect.name
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    in_range = "o.created_at >= :start AND o.created_at < :end"
    day = _day(d, "o.created_at")
    sql = {
        "orders_per_day": f"""
            SELECT {day}, o.channel, count(*) FROM orders o WHERE {in_range}
            GROUP BY 1, 2 ORDER BY 1, 2""",
        "on_time_ship": f"""
            SELECT {day}, count(*), sum(CASE WHEN o.shipped_at <= o.ship_by THEN 1 ELSE 0 END)
            FROM orders o WHERE {in_range} AND o.ship_by IS NOT NULL AND o.status <> 'cancelled'
            AND (o.shipped_at IS NOT NULL OR o.ship_by < :now) GROUP BY 1 ORDER BY 1""",
        "on_time_delivery": f"""
            SELECT s.carrier, count(*), sum(CASE WHEN s.delivered_at <= s.promised_by THEN 1 ELSE 0 END),
            round(avg(s.fee), 2) FROM shipments s JOIN orders o ON o.order_id = s.order_id
            WHERE {in_range} AND s.delivered_at IS NOT NULL AND s.promised_by IS NOT NULL
            GROUP BY 1 ORDER BY 1""",
        "fill_rate": f"""
            SELECT (SELECT sum(units) FROM orders o WHERE {in_range}),
            (SELECT sum(s.units) FROM shipments s JOIN orders o ON o.order_id = s.order_id
             WHERE {in_range} AND s.shipped_at IS NOT NULL AND s.status <> 'cancelled')""",
        "exceptions": f"""
            SELECT x.exception_type, count(*), sum(CASE WHEN EXISTS (
              SELECT 1 FROM order_transitions y WHERE y.order_id = x.order_id
              AND (y.at > x.at OR (y.at = x.at AND y.id > x.id))) THEN 1 ELSE 0 END)
            FROM order_transitions x JOIN orders o ON o.order_id = x.order_id
            WHERE {in_range} AND x.status IN ('on_hold', 'awaiting_operator') AND x.exception_type <> ''
            GROUP BY 1 ORDER BY 1""",
        "cancel_refund": f"""
            SELECT count(*), sum(CASE WHEN o.status = 'cancelled' THEN 1 ELSE 0 END),
            sum(CASE WHEN EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.order_id
                                  AND r.status = 'refunded') THEN 1 ELSE 0 END)
            FROM orders o WHERE {in_range}""",
        "top_sellers": f"""
            SELECT l.sku, sum(l.quantity), round(sum(l.quantity * l.unit_price), 2)
            FROM order_lines l JOIN orders o ON o.order_id = l.order_id WHERE {in_range}
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20""",
        "slow_movers": """
            SELECT st.sku, st.warehouse, st.on_hand FROM stock st WHERE st.on_hand > 0 AND NOT EXISTS (
              SELECT 1 FROM order_lines l JOIN orders o ON o.order_id = l.order_id
              WHERE l.sku = st.sku AND o.created_at >= :cutoff AND o.created_at < :end)
            ORDER BY 3 DESC, 1, 2""",
        "customer_value": f"""
            SELECT tier, count(*), round(avg(revenue), 2), sum(CASE WHEN n >= 2 THEN 1 ELSE 0 END)
            FROM (SELECT customer_id, max(customer_tier) AS tier, count(*) AS n, sum(total) AS revenue
                  FROM orders WHERE customer_id IN (SELECT o.customer_id FROM orders o WHERE {in_range})
                  GROUP BY customer_id) c
            GROUP BY tier ORDER BY tier""",
    }[figure]
    cutoff = dt.datetime.combine(until - dt.timedelta(days=slow_days - 1), dt.time.min, tzinfo=dt.UTC)
    params = {"start": start, "end": end, "now": dt.datetime.now(dt.UTC), "cutoff": cutoff}
    async with engine.connect() as conn:
        rows = (await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})).all()
    return [tuple(_num(v) for v in r) for r in rows]


def shown(figure: str, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The dashboard's rows in the shape of `direct`'s."""
    pick = {
        "orders_per_day": ("day", "channel", "orders"),
        "on_time_ship": ("day", "eligible", "on_time"),
        "on_time_delivery": ("carrier", "delivered", "on_time", "average_fee"),
        "fill_rate": ("units_ordered", "units_shipped"),
        "exceptions": ("exception_type", "count", "resolved"),
        "cancel_refund": ("orders", "cancelled", "refunded"),
        "top_sellers": ("sku", "units", "revenue"),
        "slow_movers": ("sku", "warehouse", "on_hand"),
        "customer_value": ("tier", "customers", "lifetime_value", "repeat_customers"),
    }[figure]
    out = []
    for row in rows:
        values = dict(row)
        if figure == "customer_value":  # the page shows the share; the query counts them
            values["repeat_customers"] = round(row["repeat_rate"] * row["customers"])
        out.append(tuple(values[k] for k in pick))
    return out
