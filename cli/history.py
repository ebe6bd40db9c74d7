"""Order history for the dashboard: `ordo history seed` writes months of past orders straight
into the read models (orders, lines, timelines, parcels, a few refunded returns, and the
roll-ups), as the lifecycle would have left them. The demo uses it so every figure has
something to show; the dashboard bench uses it for a million orders in PostgreSQL.

These orders never had workflows: their ids carry an `H` (`tmall-H0000042`), their order
page shows the stored record, and `ordo history clear` removes them."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import tables as t
from store.analytics import day_of
from store.rollups import upsert

CHANNELS = ["tmall", "jd", "taobao", "shopify", "pos", "erp", "wechat"]
CHANNEL_WEIGHTS = [30, 22, 15, 10, 10, 8, 5]
TIERS = ["regular", "silver", "gold", "platinum"]
TIER_WEIGHTS = [60, 22, 13, 5]
EXCEPTIONS = ["payment_declined", "invalid_address", "fraud_review", "shipment_late", "out_of_stock"]
MARKER = "H"  # history orders' external ids start with it


@dataclass
class Catalogue:
    skus: list[tuple[str, Decimal]]  # sku, unit price
    warehouses: list[str]
    carriers: list[str]


@dataclass
class Batch:
    orders: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)


def _arrival(end: dt.datetime, span: int, rng: random.Random) -> dt.datetime:
    """More orders on recent days, fewer at weekends."""
    created = end - dt.timedelta(seconds=span * (1 - math.sqrt(rng.random())))
    if created.weekday() >= 5 and rng.random() < 0.3:
        created -= dt.timedelta(days=2)
    return created


def _hours(rng: random.Random, median: float, spread: float = 0.8) -> dt.timedelta:
    return dt.timedelta(hours=median * math.exp(rng.gauss(0, spread)))


def history(
    count: int,
    days: int,
    end: dt.datetime,
    catalogue: Catalogue,
    seed: int = 15,
    waiting: int = 0,
    batch: int = 5000,
) -> Iterator[Batch]:
    """`count` orders over the `days` before `end` (more on recent days, a weekly rhythm),
    customers who come back, most orders completed; `waiting` of the newest are left
    waiting for a person (the work queue)."""
    rng = random.Random(seed)
    customers = max(1, count // 3)
    tiers = rng.choices(TIERS, TIER_WEIGHTS, k=customers)  # a customer keeps their tier
    # slow movers: a fifth of the catalogue has not sold in the last 45 days
    resting = {sku for sku, _ in catalogue.skus[: max(1, len(catalogue.skus) // 5)]}
    span = days * 86400
    # in the order they arrived, as a live OMS stores them (the newest are the ones waiting)
    arrivals = sorted(_arrival(end, span, rng) for _ in range(count))
    current = Batch()
    for n, created in enumerate(arrivals):
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        order_id = f"{channel}-{MARKER}{n:07d}"
        recent = (end - created).days < 45
        choices = [s for s in catalogue.skus if not (recent and s[0] in resting)]
        picked = rng.sample(choices, k=min(len(choices), rng.choice([1, 1, 1, 2, 2, 3])))
        lines = [(sku, rng.choice([1, 1, 1, 2, 3]), price) for sku, price in picked]
        total = sum((q * p for _, q, p in lines), Decimal(0))
        customer = rng.randrange(customers)
        tier = tiers[customer]
        ship_by = created + dt.timedelta(hours=24 if tier in ("gold", "platinum") else 48)
        steps: list[tuple[str, str, dt.datetime]] = [
            ("received", "", created),
            ("reserved", "", created + dt.timedelta(minutes=2)),
        ]
        at = created + dt.timedelta(minutes=3)

        draft = _Draft(order_id, channel, customer, tier, total, lines, created, ship_by)
        if rng.random() < 0.06 or n >= count - waiting:  # an exception an operator dealt with
            kind = rng.choice(EXCEPTIONS)
            steps.append(("awaiting_operator", kind, at))
            if n >= count - waiting:
                _emit(current, draft, steps, "awaiting_operator", kind)
                continue
            at += _hours(rng, 3)
            steps.append(("reserved", "", at))
        if rng.random() < 0.04:
            steps.append(("cancelled", "", at + _hours(rng, 1)))
            _emit(current, draft, steps, "cancelled", closed=steps[-1][2])
            continue
        shipped = at + _hours(rng, 8 if tier == "regular" else 4, 0.9)
        carrier = rng.choice(catalogue.carriers)
        promised_days = rng.choice([1, 2, 2, 3])
        promised = shipped + dt.timedelta(days=promised_days)
        delivered = shipped + _hours(rng, 20 * promised_days, 0.35)
        steps += [("shipped", "", shipped), ("delivered", "", delivered), ("completed", "", delivered)]
        done = delivered <= end
        if not done:
            steps = [s for s in steps if s[2] <= end]
        _emit(
            current,
            draft,
            steps,
            "completed" if done else "shipped",
            "",
            shipped,
            delivered if done else None,
            delivered if done else None,
        )
        current.shipments.append(
            {
                "shipment_id": f"{order_id}-1",
                "order_id": order_id,
                "warehouse": rng.choice(catalogue.warehouses),
                "service": "standard",
                "weight_g": 500 * len(lines),
                "status": "delivered" if done else "in_transit",
                "lines": [{"sku": s, "quantity": q} for s, q, _ in lines],
                "carrier": carrier,
                "waybill_no": f"H{n:011d}",
                "updated_at": delivered if done else shipped,
                "units": sum(q for _, q, _ in lines),
                "fee": Decimal(rng.randrange(800, 2600)) / 100,
                "promised_by": promised,
                "shipped_at": shipped,
                "delivered_at": delivered if done else None,
            }
        )
        if done and rng.random() < 0.03:
            current.returns.append(
                {
                    "rma": f"RMA-{order_id}-1",
                    "order_id": order_id,
                    "request_id": "1",
                    "status": "refunded",
                    "request": {"lines": []},
                    "state": None,
                    "created_at": delivered + dt.timedelta(days=2),
                    "updated_at": delivered + dt.timedelta(days=5),
                }
            )
        if len(current.orders) >= batch:
            yield current
            current = Batch()
    if current.orders:
        yield current


@dataclass(frozen=True)
class _Draft:
    order_id: str
    channel: str
    customer: int
    tier: str
    total: Decimal
    lines: list[tuple[str, int, Decimal]]
    created: dt.datetime
    ship_by: dt.datetime


def _emit(
    b: Batch,
    d: _Draft,
    steps: list[tuple[str, str, dt.datetime]],
    status: str,
    exception: str = "",
    shipped: dt.datetime | None = None,
    delivered: dt.datetime | None = None,
    closed: dt.datetime | None = None,
) -> None:
    """The order as the lifecycle would have left it, with its lines and timeline."""
    external = d.order_id.split("-", 1)[1]
    b.orders.append(
        {
            "order_id": d.order_id,
            "workflow_id": f"order-{d.order_id}",
            "channel": d.channel,
            "external_id": external,
            "customer_id": f"hist-{d.customer:07d}",
            "customer_tier": d.tier,
            "status": status,
            "priority": "normal",
            "exception_type": exception,
            "exception_reason": f"{exception} (history)" if exception else "",
            "total": d.total,
            "currency": "CNY",
            "payload": {
                "order_id": d.order_id,
                "channel": d.channel,
                "external_id": external,
                "lines": [{"sku": s, "quantity": q, "unit_price": str(p)} for s, q, p in d.lines],
            },
            "created_at": d.created,
            "updated_at": steps[-1][2],
            "units": sum(q for _, q, _ in d.lines),
            "units_shipped": sum(q for _, q, _ in d.lines) if shipped else 0,
            "ship_by": d.ship_by,
            "shipped_at": shipped,
            "delivered_at": delivered,
            "closed_at": closed,
        }
    )
    b.lines += [
        {"order_id": d.order_id, "line_no": i, "sku": s, "quantity": q, "unit_price": p}
        for i, (s, q, p) in enumerate(d.lines)
    ]
    b.transitions += [
        {"order_id": d.order_id, "status": s, "exception_type": e, "at": a} for s, e, a in steps
    ]


async def catalogue(engine: AsyncEngine) -> Catalogue:
    async with engine.connect() as conn:
        skus = [
            (r.sku, r.unit_price)
            for r in await conn.execute(
                select(t.products.c.sku, t.products.c.unit_price).order_by(t.products.c.sku)
            )
        ]
        warehouses = list(
            (await conn.execute(select(t.warehouses.c.code).order_by(t.warehouses.c.code))).scalars()
        )
        carriers = list((await conn.execute(select(t.carriers.c.code).order_by(t.carriers.c.code))).scalars())
    if not skus or not warehouses or not carriers:
        raise ValueError("the catalogue is empty: import one first (`ordo catalog import`)")
    return Catalogue(skus, warehouses, carriers)


async def _copy(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":  # COPY: an order of magnitude faster than INSERTs
        raw = await conn.get_raw_connection()
        columns = list(rows[0])
        records = [
            tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in r.values()) for r in rows
        ]
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=columns
        )
    else:
        await conn.execute(table.insert(), rows)


async def seed(
    engine: AsyncEngine,
    count: int,
    days: int,
    waiting: int = 0,
    seed_value: int = 15,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Write the history and bring the roll-ups up to date; returns the orders written."""
    end = dt.datetime.now(dt.UTC)
    cat = await catalogue(engine)
    written = 0
    sales: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    customers: dict[str, list[Any]] = {}
    for batch in history(count, days, end, cat, seed_value, waiting):
        async with engine.begin() as conn:
            for table, rows in (
                (t.orders, batch.orders),
                (t.order_lines, batch.lines),
                (t.order_transitions, batch.transitions),
                (t.shipments, batch.shipments),
                (t.returns, batch.returns),
            ):
                await _copy(conn, table, rows)
        by_id = {o["order_id"]: o for o in batch.orders}
        for line in batch.lines:
            o = by_id[line["order_id"]]
            key = (o["created_at"].strftime("%Y-%m-%d"), line["sku"], o["channel"])
            sales[key][0] += line["quantity"]
            sales[key][1] += line["quantity"] * line["unit_price"]
        for o in batch.orders:
            c = customers.setdefault(
                o["customer_id"], [o["customer_tier"], 0, Decimal(0), o["created_at"], o["created_at"]]
            )
            c[1] += 1
            c[2] += o["total"]
            c[3], c[4] = min(c[3], o["created_at"]), max(c[4], o["created_at"])
        written += len(batch.orders)
        progress(written)
    async with engine.begin() as conn:
        await _merge(
            conn,
            t.sku_sales_daily,
            ["day", "sku", "channel"],
            [
                {"day": d, "sku": s, "channel": ch, "units": u, "revenue": r}
                for (d, s, ch), (u, r) in sales.items()
            ],
            {"units", "revenue"},
        )
        await _merge(
            conn,
            t.customer_totals,
            ["customer_id"],
            [
                {
                    "customer_id": cid,
                    "tier": tier,
                    "orders": n,
                    "revenue": rev,
                    "first_at": first,
                    "last_at": last,
                }
                for cid, (tier, n, rev, first, last) in customers.items()
            ],
            {"orders", "revenue"},
        )
    return written


async def _merge(
    conn: AsyncConnection, table: Table, keys: list[str], rows: list[dict[str, Any]], added: set[str]
) -> None:
    """Upsert in chunks, adding to the counters a row that is already there."""
    for start in range(0, len(rows), 2000):
        stmt = upsert(conn, table).values(rows[start : start + 2000])
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in added}
            )
        )


async def present(engine: AsyncEngine) -> bool:
    o = t.orders.c
    async with engine.connect() as conn:
        found = await conn.execute(select(o.order_id).where(o.customer_id.startswith("hist-")).limit(1))
        return found.first() is not None


async def clear(engine: AsyncEngine) -> int:
    """Remove the seeded history (and its share of the roll-ups: they are rebuilt from what is left)."""
    o = t.orders.c
    history_ids = select(o.order_id).where(
        o.external_id.startswith(MARKER), o.customer_id.startswith("hist-")
    )
    async with engine.begin() as conn:
        n = (
            await conn.execute(
                select(func.count())
                .select_from(t.orders)
                .where(o.external_id.startswith(MARKER), o.customer_id.startswith("hist-"))
            )
        ).scalar_one()
        for table in (t.order_lines, t.order_transitions, t.shipments, t.returns):
            await conn.execute(delete(table).where(table.c.order_id.in_(history_ids)))
        await conn.execute(delete(t.orders).where(o.order_id.in_(history_ids)))
        await conn.execute(
            delete(t.customer_totals).where(t.customer_totals.c.customer_id.startswith("hist-"))
        )
        await conn.execute(delete(t.sku_sales_daily))
        day = day_of(conn, o.created_at)
        lines = t.order_lines.c
        sold = (
            select(
                day,
                lines.sku,
                o.channel,
                func.sum(lines.quantity),
                func.sum(lines.quantity * lines.unit_price),
            )
            .select_from(t.orders.join(t.order_lines, lines.order_id == o.order_id))
            .group_by(day, lines.sku, o.channel)
        )
        await conn.execute(
            t.sku_sales_daily.insert().from_select(["day", "sku", "channel", "units", "revenue"], sold)
        )
    return int(n)
