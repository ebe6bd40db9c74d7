"""The dashboard's figures, on SQLite and PostgreSQL: each equals the same figure computed
by a plain SQL query on the base tables (tests/dashboard_sql.py), over months of seeded
history plus orders written by the lifecycle's own store calls; percentiles equal golden
values; a scoped caller's figures count only their channels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cli import history
from domain.access import SYSTEM, Principal, Role
from domain.kpis import KPIS, DashboardQuery
from domain.messages import ParcelLine, Shipment, ShipmentRecord, StatusRecord
from domain.model import Order
from domain.status import OrderStatus, ShipmentStatus
from services import dashboard
from store import orders as order_store
from store.db import make_engine
from tests.dashboard_sql import direct, shown
from tests.factories import make_order
from tests.harness import prepare_database

PERCENTILES = {"processing_time"}


def _close(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(
        x == pytest.approx(y, abs=0.011) if isinstance(x, float) or isinstance(y, float) else x == y
        for x, y in zip(a, b, strict=True)
    )


async def test_every_figure_equals_its_direct_sql(db_url: str) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        await history.seed(engine, 1500, 60, waiting=12, seed_value=3)
        today = dt.datetime.now(dt.UTC).date()
        for q in (DashboardQuery.last_days(today, 30), DashboardQuery.last_days(today, 7, slow_days=5)):
            for kpi in KPIS:
                if kpi in PERCENTILES:
                    continue
                fig = await dashboard.figure(SYSTEM, engine, kpi, q)
                expected = await direct(engine, kpi, q.date_from, q.date_to, q.slow_days)
                got = shown(kpi, fig.rows)
                assert expected, f"{kpi}: the seeded history should make it non-trivial"
                assert len(got) == len(expected) and all(
                    _close(g, e) for g, e in zip(got, expected, strict=True)
                ), (kpi, got[:5], expected[:5])
    finally:
        await engine.dispose()


def _order(n: int, channel: str = "tmall") -> Order:
    return make_order(f"P{n}", channel=channel)


async def test_processing_time_and_resolution_are_the_golden_percentiles(db_url: str) -> None:
    """Five orders shipped 1, 2, 3, 4 and 10 hours after intake: p50 3 h, p90 7.6 h
    (percentile_cont); one held twice for an address, resolved after 1 h and 4 h: median 2.5 h."""
    await prepare_database(db_url)
    engine = make_engine(db_url)
    day = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
    try:
        for n, hours in enumerate((1, 2, 3, 4, 10)):
            order = _order(n)
            await order_store.save_order(engine, order, at=day)
            await order_store.set_status(
                engine,
                StatusRecord(
                    order_id=order.order_id, status=OrderStatus.SHIPPED, at=day + dt.timedelta(hours=hours)
                ),
            )
        held = _order(9).order_id
        for start, wait in ((2, 1), (5, 4)):
            for status, kind, at in (
                (OrderStatus.AWAITING_OPERATOR, "invalid_address", start),
                (OrderStatus.RESERVED, "", start + wait),
            ):
                await order_store.set_status(
                    engine,
                    StatusRecord(
                        order_id=held, status=status, exception_type=kind, at=day + dt.timedelta(hours=at)
                    ),
                )
        await order_store.save_order(engine, _order(9), at=day)
        q = DashboardQuery(date_from=day.date(), date_to=day.date())
        times = await dashboard.figure(SYSTEM, engine, "processing_time", q)
        assert times.rows == [{"day": "2026-11-20", "orders": 5, "p50_hours": 3.0, "p90_hours": 7.6}]
        waits = await dashboard.figure(SYSTEM, engine, "exceptions", q)
        assert waits.rows == [
            {"exception_type": "invalid_address", "count": 2, "resolved": 2, "median_hours": 2.5}
        ]
    finally:
        await engine.dispose()


async def test_parcels_record_their_fee_promise_and_delivery(db_url: str) -> None:
    """The lifecycle's own writes feed on-time delivery: a parcel delivered before its promise
    counts on time, with its fee; a retried status write does not add a second timeline step."""
    await prepare_database(db_url)
    engine = make_engine(db_url)
    day = dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)
    try:
        order = _order(1, "jd")
        await order_store.save_order(engine, order, at=day)
        parcel = Shipment(
            shipment_id=f"{order.order_id}-1",
            order_id=order.order_id,
            warehouse="SH-01",
            service="standard",
            weight_g=500,
            lines=[ParcelLine(sku=order.lines[0].sku, quantity=order.lines[0].quantity)],
        )
        for status, hours in ((ShipmentStatus.WAYBILL_CREATED, 2), (ShipmentStatus.DELIVERED, 30)):
            await order_store.save_shipment(
                engine,
                ShipmentRecord(
                    order_id=order.order_id,
                    shipment=parcel,
                    status=status,
                    carrier="sf",
                    waybill_no="SF1",
                    at=day + dt.timedelta(hours=hours),
                    fee=Decimal("12.50"),
                    promised_by=day + dt.timedelta(days=2),
                ),
            )
        record = StatusRecord(
            order_id=order.order_id, status=OrderStatus.SHIPPED, at=day + dt.timedelta(hours=2)
        )
        await order_store.set_status(engine, record)
        await order_store.set_status(engine, record)
        q = DashboardQuery(date_from=day.date(), date_to=day.date())
        fig = await dashboard.figure(SYSTEM, engine, "on_time_delivery", q)
        assert fig.rows == [{"carrier": "sf", "delivered": 1, "on_time": 1, "rate": 1.0, "average_fee": 12.5}]
        fill = await dashboard.figure(SYSTEM, engine, "fill_rate", q)
        assert fill.rows[0]["units_shipped"] == fill.rows[0]["units_ordered"] == order.lines[0].quantity
        assert [t.status for t in await order_store.transitions(engine, order.order_id)] == ["shipped"]
        scoped = Principal(subject="user:t", role=Role.VIEWER, channels=("tmall",))
        assert (await dashboard.figure(scoped, engine, "on_time_delivery", q)).rows == []
    finally:
        await engine.dispose()
