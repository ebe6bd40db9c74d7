"""Orders and shipments: the OMS's read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.messages import ShipmentRecord, StatusRecord
from domain.model import Order
from domain.records import OrderRecord, TransitionRow
from domain.status import SHIPPED_OR_LATER, OrderStatus, ShipmentStatus
from store import followups, rollups
from store import tables as t
from store.db import utc

# A parcel's workflow is running, and so can hear a tracking event, in these statuses.
TRAVELLING = {s.value for s in (ShipmentStatus.PENDING, ShipmentStatus.AT_WAREHOUSE,
                                ShipmentStatus.WAYBILL_CREATED, ShipmentStatus.IN_TRANSIT,
                                ShipmentStatus.OUT_FOR_DELIVERY)}


async def save_order(engine: AsyncEngine, order: Order, at: datetime | None = None) -> bool:
    """Idempotent: returns False when the order was already stored. `at`: when it was taken
    (now, unless history is being loaded)."""
    at = at or datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(t.orders.insert().values(
                order_id=order.order_id, workflow_id=order.workflow_id, channel=order.channel,
                external_id=order.external_id, customer_id=order.customer.id,
                customer_tier=order.customer.tier.value, status=OrderStatus.RECEIVED.value,
                total=order.total, currency=order.currency,
                payload=order.model_dump(mode="json"), created_at=at, updated_at=at,
                units=sum(ln.quantity for ln in order.lines),
            ))
            await rollups.add_order(conn, order, at)
            await conn.execute(t.order_lines.insert(), [
                {"order_id": order.order_id, "line_no": i, "sku": ln.sku,
                 "quantity": ln.quantity, "unit_price": ln.unit_price}
                for i, ln in enumerate(order.lines)
            ])
        return True
    except IntegrityError:
        return False


# A parcel counts as shipped from its waybill on (the order is `shipped` then too).
HANDED_OVER = frozenset({ShipmentStatus.WAYBILL_CREATED, ShipmentStatus.IN_TRANSIT,
                         ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED})


async def exists(engine: AsyncEngine, order_id: str) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(select(t.orders.c.order_id).where(t.orders.c.order_id == order_id))
        return found.first() is not None


async def set_status(engine: AsyncEngine, rec: StatusRecord) -> None:
    """The order's status now, and one more step of its timeline (a retried write of the
    same step, same workflow time, is not counted twice)."""
    at = rec.at or datetime.now(UTC)
    o = t.orders.c
    values: dict[str, Any] = {"status": rec.status.value, "updated_at": func.now(),
                              "exception_type": rec.exception_type, "exception_reason": rec.exception_reason}
    if rec.priority:
        values["priority"] = rec.priority
    if rec.ship_by:
        values["ship_by"] = rec.ship_by
    if rec.status in SHIPPED_OR_LATER:
        values["shipped_at"] = func.coalesce(o.shipped_at, at)
    if rec.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        values["delivered_at"] = func.coalesce(o.delivered_at, at)
    if rec.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        values["closed_at"] = at
    async with engine.begin() as conn:
        await conn.execute(update(t.orders).where(o.order_id == rec.order_id).values(**values))
        last = (await conn.execute(
            select(t.order_transitions.c.status).where(t.order_transitions.c.order_id == rec.order_id)
            .order_by(t.order_transitions.c.id.desc()).limit(1))).scalar()
        if last == rec.status.value:
            return  # a re-recorded status (priority or exception type changed) is no new step
        try:
            async with conn.begin_nested():
                await conn.execute(t.order_transitions.insert().values(
                    order_id=rec.order_id, status=rec.status.value, exception_type=rec.exception_type, at=at))
        except IntegrityError:
            pass


async def set_address(engine: AsyncEngine, order_id: str, address: dict[str, Any]) -> None:
    async with engine.begin() as conn:
        row = (await conn.execute(
            select(t.orders.c.payload).where(t.orders.c.order_id == order_id))).one()
        payload = dict(row[0])
        payload["shipping_address"] = address
        await conn.execute(update(t.orders).where(t.orders.c.order_id == order_id)
                           .values(payload=payload, updated_at=func.now()))


async def save_shipment(engine: AsyncEngine, rec: ShipmentRecord) -> None:
    s = rec.shipment
    at = rec.at or datetime.now(UTC)
    c = t.shipments.c
    values: dict[str, Any] = {
        "order_id": rec.order_id, "warehouse": s.warehouse, "service": s.service,
        "weight_g": s.weight_g, "lines": [ln.model_dump() for ln in s.lines],
        "status": rec.status.value, "carrier": rec.carrier, "waybill_no": rec.waybill_no,
        "units": sum(ln.quantity for ln in s.lines), "fee": rec.fee, "promised_by": rec.promised_by}
    if rec.status in HANDED_OVER:
        values["shipped_at"] = func.coalesce(c.shipped_at, at)
    if rec.status == ShipmentStatus.DELIVERED:
        values["delivered_at"] = func.coalesce(c.delivered_at, at)
    async with engine.begin() as conn:
        changed = await conn.execute(
            update(t.shipments).where(t.shipments.c.shipment_id == s.shipment_id)
            .values(**values, updated_at=at))
        if changed.rowcount == 0:
            values.update(shipped_at=at if rec.status in HANDED_OVER else None,
                          delivered_at=at if rec.status == ShipmentStatus.DELIVERED else None)
            await conn.execute(
                t.shipments.insert().values(shipment_id=s.shipment_id, updated_at=at, **values))
        shipped = (select(func.coalesce(func.sum(c.units), 0))
                   .where(c.order_id == rec.order_id, c.shipped_at.is_not(None), c.status != "cancelled")
                   .scalar_subquery())
        await conn.execute(update(t.orders).where(t.orders.c.order_id == rec.order_id)
                           .values(units_shipped=shipped))


@dataclass(frozen=True)
class WaybillMatch:
    """`live`: the unfinished parcel this carrier's waybill number belongs to ("" if none);
    `finished`: the newest finished one with that number, when no live one has it."""

    live: str
    finished: str
    finished_at: datetime | None = None  # when the finished one last changed (its end)


async def shipment_for_waybill(engine: AsyncEngine, carrier: str, waybill_no: str) -> WaybillMatch:
    """Carriers reuse waybill numbers (and a restarted simulator numbers from the start), so
    a push that names only the waybill belongs to the parcel of that carrier still on its
    way, never to an older one that has finished."""
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(t.shipments.c.shipment_id, t.shipments.c.status, t.shipments.c.updated_at)
            .where(t.shipments.c.waybill_no == waybill_no, t.shipments.c.carrier == carrier)
            .order_by(t.shipments.c.updated_at.desc()))).all()
    live = [r.shipment_id for r in rows if r.status in TRAVELLING]
    if live or not rows:
        return WaybillMatch(live=live[0] if live else "", finished="")
    ended = rows[0].updated_at
    return WaybillMatch(live="", finished=rows[0].shipment_id,
                        finished_at=utc(ended))


async def get_order(engine: AsyncEngine, order_id: str) -> OrderRecord | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(t.orders).where(t.orders.c.order_id == order_id))).first()
        if row is None:
            return None
        ships = await conn.execute(select(t.shipments).where(t.shipments.c.order_id == order_id)
                                   .order_by(t.shipments.c.shipment_id))
        decs = await conn.execute(select(t.decisions).where(t.decisions.c.order_id == order_id)
                                  .order_by(t.decisions.c.id))
        pays = await conn.execute(
            select(t.payment_notifications.c.trade_no, t.payment_notifications.c.trade_status,
                   t.payment_notifications.c.total_amount, t.payment_notifications.c.created_at)
            .where(t.payment_notifications.c.out_trade_no == order_id)
            .order_by(t.payment_notifications.c.id))
        return OrderRecord.model_validate({
            **row._mapping,
            "payment_notifications": [p._mapping for p in pays],
            "shipments": [s._mapping for s in ships],
            "decisions": [d._mapping for d in decs],
            "followups": await followups.for_order(conn, order_id),
        })


async def statuses(engine: AsyncEngine, order_ids: list[str]) -> dict[str, str]:
    """The stored status of each of these orders that is stored (an order still in the inbox
    is not)."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.orders.c.order_id, t.orders.c.status)
                                  .where(t.orders.c.order_id.in_(order_ids)))
        return {r.order_id: r.status for r in rows}


async def counts_by_status(engine: AsyncEngine, order_ids: list[str] | None = None,
                           channels: tuple[str, ...] = ()) -> dict[str, int]:
    """`channels`: only orders of these (a scoped user's count); empty: every channel."""
    query = select(t.orders.c.status, func.count()).group_by(t.orders.c.status)
    if order_ids is not None:
        query = query.where(t.orders.c.order_id.in_(order_ids))
    if channels:
        query = query.where(t.orders.c.channel.in_(channels))
    async with engine.connect() as conn:
        return {r[0]: int(r[1]) for r in await conn.execute(query)}


async def record_payment_notification(engine: AsyncEngine, form: dict[str, str]) -> bool:
    """Idempotent by notify_id: gateways repeat notifications until acknowledged."""
    try:
        async with engine.begin() as conn:
            await conn.execute(t.payment_notifications.insert().values(
                notify_id=form["notify_id"], out_trade_no=form["out_trade_no"],
                trade_no=form.get("trade_no", ""), trade_status=form["trade_status"],
                total_amount=form.get("total_amount") or "0", body=form))
        return True
    except IntegrityError:
        return False


async def transitions(engine: AsyncEngine, order_id: str) -> list[TransitionRow]:
    tr = t.order_transitions.c
    async with engine.connect() as conn:
        rows = await conn.execute(select(tr.status, tr.exception_type, tr.at)
                                  .where(tr.order_id == order_id).order_by(tr.at, tr.id))
        return [TransitionRow(status=r.status, exception_type=r.exception_type,
                              at=utc(r.at)) for r in rows]
