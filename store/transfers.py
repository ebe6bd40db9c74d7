"""Stock transfers between warehouses (调拨): dispatched stock leaves the source's on hand
and shows as in transit at the destination (visible, never reservable) until the WMS
confirms the receipt. Both steps are one transaction each, with their ledger rows, and are
idempotent by transfer id, so a retried activity never moves stock twice."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.records import TransferRecord
from store import ledger
from store import tables as t


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    sku: str
    from_warehouse: str
    to_warehouse: str
    quantity: int


class _Refused(Exception):
    pass


def _row(tr: Transfer, status: str, reason: str = "") -> dict[str, object]:
    return {**asdict(tr), "status": status, "reason": reason}


async def dispatch(engine: AsyncEngine, tr: Transfer) -> str:
    """`in_transit` once the stock has left (also on a repeat), else why not (the row keeps it)."""
    async with engine.connect() as conn:
        known = (
            await conn.execute(
                select(t.transfers.c.status, t.transfers.c.reason).where(
                    t.transfers.c.transfer_id == tr.transfer_id
                )
            )
        ).first()
    if known is not None:
        return str(known.status) if known.status != "refused" else str(known.reason)
    ref = f"transfer:{tr.transfer_id}"
    try:
        async with engine.begin() as conn:
            moved = await conn.execute(
                update(t.stock)
                .where(
                    t.stock.c.sku == tr.sku,
                    t.stock.c.warehouse == tr.from_warehouse,
                    t.stock.c.on_hand - t.stock.c.reserved - t.stock.c.safety_stock >= tr.quantity,
                )
                .values(on_hand=t.stock.c.on_hand - tr.quantity)
            )
            if moved.rowcount != 1:
                raise _Refused(f"{tr.from_warehouse} has fewer than {tr.quantity} free units of {tr.sku}")
            arriving = await conn.execute(
                update(t.stock)
                .where(t.stock.c.sku == tr.sku, t.stock.c.warehouse == tr.to_warehouse)
                .values(in_transit=t.stock.c.in_transit + tr.quantity)
            )
            if arriving.rowcount != 1:
                await conn.execute(
                    t.stock.insert().values(
                        sku=tr.sku,
                        warehouse=tr.to_warehouse,
                        on_hand=0,
                        reserved=0,
                        safety_stock=0,
                        in_transit=tr.quantity,
                    )
                )
            await ledger.record(conn, tr.sku, tr.from_warehouse, "transfer_out", ref, on_hand=-tr.quantity)
            await ledger.record(conn, tr.sku, tr.to_warehouse, "transfer_out", ref, in_transit=tr.quantity)
            await conn.execute(t.transfers.insert().values(**_row(tr, "in_transit")))
    except _Refused as refused:
        async with engine.begin() as conn:
            await conn.execute(t.transfers.insert().values(**_row(tr, "refused", str(refused))))
        return str(refused)
    return "in_transit"


async def receive(engine: AsyncEngine, transfer_id: str, received: int) -> str:
    """Book the WMS's receipt: in transit down by what was sent, on hand up by what arrived
    (a shortfall is lost in transit and stays visible in the ledger). `received`, or
    `duplicate` if it was booked already, or why it cannot be."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(select(t.transfers).where(t.transfers.c.transfer_id == transfer_id))
        ).first()
        if row is None:
            return f"no transfer {transfer_id}"
        if row.status != "in_transit":
            return "duplicate" if row.status == "received" else f"transfer {transfer_id} is {row.status}"
        changed = await conn.execute(
            update(t.transfers)
            .where(t.transfers.c.transfer_id == transfer_id, t.transfers.c.status == "in_transit")
            .values(
                status="received",
                updated_at=func.now(),
                reason="" if received == row.quantity else f"{row.quantity - received} lost in transit",
            )
        )
        if changed.rowcount != 1:
            return "duplicate"
        await conn.execute(
            update(t.stock)
            .where(t.stock.c.sku == row.sku, t.stock.c.warehouse == row.to_warehouse)
            .values(in_transit=t.stock.c.in_transit - row.quantity, on_hand=t.stock.c.on_hand + received)
        )
        await ledger.record(
            conn,
            row.sku,
            row.to_warehouse,
            "transfer_in",
            f"transfer:{transfer_id}",
            on_hand=received,
            in_transit=-row.quantity,
        )
    return "received"


async def listing(engine: AsyncEngine, limit: int = 100) -> list[TransferRecord]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.transfers).order_by(t.transfers.c.created_at.desc()).limit(limit))
        return [TransferRecord.model_validate(r._mapping) for r in rows]


async def cancel(engine: AsyncEngine, transfer_id: str, reason: str) -> str:
    """Undo a dispatched transfer the WMS would not carry out: the stock is back at the source."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(select(t.transfers).where(t.transfers.c.transfer_id == transfer_id))
        ).first()
        if row is None or row.status != "in_transit":
            return "nothing to undo"
        await conn.execute(
            update(t.transfers)
            .where(t.transfers.c.transfer_id == transfer_id)
            .values(status="refused", reason=reason[:500], updated_at=func.now())
        )
        await conn.execute(
            update(t.stock)
            .where(t.stock.c.sku == row.sku, t.stock.c.warehouse == row.from_warehouse)
            .values(on_hand=t.stock.c.on_hand + row.quantity)
        )
        await conn.execute(
            update(t.stock)
            .where(t.stock.c.sku == row.sku, t.stock.c.warehouse == row.to_warehouse)
            .values(in_transit=t.stock.c.in_transit - row.quantity)
        )
        ref = f"transfer:{transfer_id}"
        await ledger.record(conn, row.sku, row.from_warehouse, "transfer_back", ref, on_hand=row.quantity)
        await ledger.record(conn, row.sku, row.to_warehouse, "transfer_back", ref, in_transit=-row.quantity)
    return "cancelled"


async def status_of(engine: AsyncEngine, transfer_id: str) -> str | None:
    async with engine.connect() as conn:
        row = (await conn.execute(
            select(t.transfers.c.status).where(t.transfers.c.transfer_id == transfer_id))).first()
    return None if row is None else str(row.status)
