"""A parcel moves its order along its travel in the same write as its own step (patch
`parcel-journey`): the order shows the parcel furthest behind, a held order is
not moved, and two parcels moving at once leave the order where the slower one is. On
SQLite and PostgreSQL, through the store calls the shipment workflow's activity makes."""

from __future__ import annotations

import asyncio
import datetime as dt

from domain.messages import ParcelLine, Shipment, ShipmentRecord, StatusRecord
from domain.status import OrderStatus, ShipmentStatus
from store import orders as order_store
from store.db import make_engine
from tests.factories import make_order
from tests.harness import prepare_database

T0 = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)


def _parcel(order_id: str, n: int) -> Shipment:
    return Shipment(shipment_id=f"{order_id}-p{n}", order_id=order_id, warehouse="SH-01",
                    lines=[ParcelLine(sku="COKE-330-24", quantity=1)], weight_g=9000, service="standard")


def _step(parcel: Shipment, status: ShipmentStatus, minute: int, moves: bool = True) -> ShipmentRecord:
    return ShipmentRecord(order_id=parcel.order_id, shipment=parcel, status=status, carrier="sf",
                          waybill_no=f"SF{parcel.shipment_id}", at=T0 + dt.timedelta(minutes=minute),
                          moves_order=moves)


async def test_the_order_shows_the_parcel_furthest_behind_and_a_held_one_stays(db_url: str) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        order = make_order("travel-1", [("COKE-330-24", 2)])
        held = make_order("travel-2", [("COKE-330-24", 1)])
        for o, status in ((order, OrderStatus.FULFILLING), (held, OrderStatus.ON_HOLD)):
            await order_store.save_order(engine, o, at=T0)
            await order_store.set_status(engine, StatusRecord(order_id=o.order_id, status=status, at=T0))
        p1, p2 = _parcel(order.order_id, 1), _parcel(order.order_id, 2)
        steps = [(p1, ShipmentStatus.PENDING, False), (p2, ShipmentStatus.PENDING, False),
                 (p1, ShipmentStatus.WAYBILL_CREATED, True), (p1, ShipmentStatus.IN_TRANSIT, True),
                 (p2, ShipmentStatus.WAYBILL_CREATED, True), (p2, ShipmentStatus.OUT_FOR_DELIVERY, True),
                 (p1, ShipmentStatus.DELIVERED, True), (p2, ShipmentStatus.LOST, True)]
        seen = []
        for minute, (parcel, step, moves) in enumerate(steps, start=1):
            await order_store.save_shipment(engine, _step(parcel, step, minute, moves))
            record = await order_store.get_order(engine, order.order_id)
            assert record is not None
            seen.append(record.status)
        assert seen == ["fulfilling", "fulfilling", "shipped", "in_transit", "shipped", "in_transit",
                        "out_for_delivery", "out_for_delivery"]
        timeline = await order_store.transitions(engine, order.order_id)
        assert [(t.status, t.at.astimezone(dt.UTC)) for t in timeline[1:]] == [
            ("shipped", T0 + dt.timedelta(minutes=3)), ("in_transit", T0 + dt.timedelta(minutes=4)),
            ("shipped", T0 + dt.timedelta(minutes=5)), ("in_transit", T0 + dt.timedelta(minutes=6)),
            ("out_for_delivery", T0 + dt.timedelta(minutes=7))]

        parcel = _parcel(held.order_id, 1)
        await order_store.save_shipment(engine, _step(parcel, ShipmentStatus.IN_TRANSIT, 1))
        record = await order_store.get_order(engine, held.order_id)
        assert record is not None and record.status == "on_hold"
        # a record without `moves_order` (a parcel from before the patch) leaves the order alone
        await order_store.set_status(engine, StatusRecord(order_id=held.order_id, status=OrderStatus.SHIPPED))
        quiet = _step(parcel, ShipmentStatus.OUT_FOR_DELIVERY, 2, moves=False)
        await order_store.save_shipment(engine, quiet)
        record = await order_store.get_order(engine, held.order_id)
        assert record is not None and record.status == "shipped"
    finally:
        await engine.dispose()


async def test_two_parcels_moving_at_once_leave_the_order_where_the_slower_is(db_url: str) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        for n in range(6):
            order = make_order(f"race-{n}", [("COKE-330-24", 2)])
            await order_store.save_order(engine, order, at=T0)
            await order_store.set_status(engine, StatusRecord(order_id=order.order_id,
                                                              status=OrderStatus.SHIPPED, at=T0))
            p1, p2 = _parcel(order.order_id, 1), _parcel(order.order_id, 2)
            await order_store.save_shipment(engine, _step(p1, ShipmentStatus.WAYBILL_CREATED, 1))
            await order_store.save_shipment(engine, _step(p2, ShipmentStatus.WAYBILL_CREATED, 1))
            await asyncio.gather(
                order_store.save_shipment(engine, _step(p1, ShipmentStatus.OUT_FOR_DELIVERY, 2)),
                order_store.save_shipment(engine, _step(p2, ShipmentStatus.IN_TRANSIT, 2)))
            record = await order_store.get_order(engine, order.order_id)
            assert record is not None and record.status == "in_transit", n
    finally:
        await engine.dispose()
