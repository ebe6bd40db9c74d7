"""Orders and shipments: the OMS's read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.messages import ShipmentRecord, StatusRecord
from domain.model import Order
from domain.records import OrderRecord, TransitionRow
from domain.status import (
    ORDER_TRAVELLING,
    SHIPPED_OR_LATER,
    OrderStatus,
    ShipmentStatus,
    order_status_while_travelling,
)
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


def _status_statements() -> tuple[Any, Any]:
    """The two statements of a status write, built once: the order's row, and its timeline's
    next step unless the last step already has this status (a re-recorded status, priority
    or exception type changed, is no new step; a retried write is kept out by the unique
    key). Built per call they cost more CPU than the database spent running them."""
    o, tr = t.orders.c, t.order_transitions.c
    p: dict[str, Any] = {name: bindparam(f"p_{name}") for name in (
        "order_id", "status", "exception_type", "exception_reason", "priority", "ship_by", "at", "shipped",
        "delivered", "closed")}
    row = update(t.orders).where(o.order_id == p["order_id"]).values(
        status=p["status"], updated_at=func.now(), exception_type=p["exception_type"],
        exception_reason=p["exception_reason"],
        priority=func.coalesce(func.nullif(p["priority"], ""), o.priority),
        ship_by=func.coalesce(p["ship_by"], o.ship_by),
        shipped_at=case((p["shipped"], func.coalesce(o.shipped_at, p["at"])), else_=o.shipped_at),
        delivered_at=case((p["delivered"], func.coalesce(o.delivered_at, p["at"])), else_=o.delivered_at),
        closed_at=case((p["closed"], p["at"]), else_=o.closed_at))
    last = (select(tr.status).where(tr.order_id == p["order_id"]).order_by(tr.id.desc()).limit(1)
            .scalar_subquery())
    step = select(p["order_id"], p["status"], p["exception_type"], p["at"]).where(
        last.is_distinct_from(p["status"]))
    return row, step


_STATUS_ROW, _STATUS_STEP = _status_statements()
_STATUS_INSERT: dict[str, Any] = {}  # per dialect: INSERT ... SELECT ... ON CONFLICT DO NOTHING


async def set_status(engine: AsyncEngine, rec: StatusRecord) -> None:
    """The order's status now, and one more step of its timeline."""
    await set_statuses(engine, [rec])


async def set_statuses(engine: AsyncEngine, recs: list[StatusRecord]) -> None:
    """Status changes made back to back, in order, in one transaction."""
    async with engine.begin() as conn:
        for rec in recs:
            await _write_status(conn, rec)


async def _write_status(conn: AsyncConnection, rec: StatusRecord) -> None:
    insert = _STATUS_INSERT.get(conn.dialect.name)
    if insert is None:
        insert = rollups.upsert(conn, t.order_transitions).from_select(
            ["order_id", "status", "exception_type", "at"], _STATUS_STEP).on_conflict_do_nothing()
        _STATUS_INSERT[conn.dialect.name] = insert
    params = {"p_order_id": rec.order_id, "p_status": rec.status.value,
              "p_exception_type": rec.exception_type, "p_exception_reason": rec.exception_reason,
              "p_priority": rec.priority, "p_ship_by": rec.ship_by,
              "p_at": rec.at or datetime.now(UTC), "p_shipped": rec.status in SHIPPED_OR_LATER,
              "p_delivered": rec.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED),
              "p_closed": rec.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED)}
    await conn.execute(_STATUS_ROW, params)
    await conn.execute(insert, params)


async def _move_order(conn: AsyncConnection, order_id: str, at: datetime) -> None:
    """The order's status from its parcels, as its workflow would set it (the parcel furthest
    behind), unless the order is not travelling (held, in an exception, or not stored). The
    order's row is locked first, so two parcels moving at once read each other's writes."""
    o = t.orders.c
    row = (await conn.execute(
        select(o.status, o.exception_type, o.exception_reason).where(o.order_id == order_id)
        .with_for_update())).first()
    if row is None or OrderStatus(row.status) not in ORDER_TRAVELLING:
        return
    parcels = (await conn.execute(
        select(t.shipments.c.status).where(t.shipments.c.order_id == order_id))).scalars()
    status = order_status_while_travelling(parcels)
    if status is None or status == row.status:
        return
    await _write_status(conn, StatusRecord(
        order_id=order_id, status=status, exception_type=row.exception_type or "",
        exception_reason=row.exception_reason or "", at=at))


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
        if rec.moves_order:
            await _move_order(conn, rec.order_id, at)


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
