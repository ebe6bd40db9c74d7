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
from domain.records import OrderRecord
from domain.status import OrderStatus, ShipmentStatus
from store import followups
from store import tables as t

# A parcel's workflow is running, and so can hear a tracking event, in these statuses.
TRAVELLING = {s.value for s in (ShipmentStatus.PENDING, ShipmentStatus.AT_WAREHOUSE,
                                ShipmentStatus.WAYBILL_CREATED, ShipmentStatus.IN_TRANSIT,
                                ShipmentStatus.OUT_FOR_DELIVERY)}


async def save_order(engine: AsyncEngine, order: Order) -> bool:
    """Idempotent: returns False when the order was already stored."""
    try:
        async with engine.begin() as conn:
            await conn.execute(t.orders.insert().values(
                order_id=order.order_id, workflow_id=order.workflow_id, channel=order.channel,
                external_id=order.external_id, customer_id=order.customer.id,
                customer_tier=order.customer.tier.value, status=OrderStatus.RECEIVED.value,
                total=order.total, currency=order.currency,
                payload=order.model_dump(mode="json"),
            ))
            await conn.execute(t.order_lines.insert(), [
                {"order_id": order.order_id, "line_no": i, "sku": ln.sku,
                 "quantity": ln.quantity, "unit_price": ln.unit_price}
                for i, ln in enumerate(order.lines)
            ])
        return True
    except IntegrityError:
        return False


async def exists(engine: AsyncEngine, order_id: str) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(select(t.orders.c.order_id).where(t.orders.c.order_id == order_id))
        return found.first() is not None


async def set_status(engine: AsyncEngine, rec: StatusRecord) -> None:
    values: dict[str, Any] = {"status": rec.status.value, "updated_at": func.now()}
    if rec.priority:
        values["priority"] = rec.priority
    values["exception_type"] = rec.exception_type
    async with engine.begin() as conn:
        await conn.execute(update(t.orders).where(t.orders.c.order_id == rec.order_id).values(**values))


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
    values = {"order_id": rec.order_id, "warehouse": s.warehouse, "service": s.service,
              "weight_g": s.weight_g, "lines": [ln.model_dump() for ln in s.lines],
              "status": rec.status.value, "carrier": rec.carrier, "waybill_no": rec.waybill_no}
    at = rec.at or func.now()
    async with engine.begin() as conn:
        changed = await conn.execute(
            update(t.shipments).where(t.shipments.c.shipment_id == s.shipment_id)
            .values(**values, updated_at=at))
        if changed.rowcount == 0:
            await conn.execute(
                t.shipments.insert().values(shipment_id=s.shipment_id, updated_at=at, **values))


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
                        finished_at=ended if ended.tzinfo else ended.replace(tzinfo=UTC))  # SQLite: naive UTC


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
