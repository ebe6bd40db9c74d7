"""The stock ledger: reservations are conditional UPDATEs, so concurrent orders never oversell.

`reserve` plans against current availability and then, in one transaction, moves each
allocation from available to reserved only if it is still available (`on_hand - reserved
- safety_stock >= qty` in the WHERE clause), and writes the movement to the ledger. If
another order won the race the transaction rolls back and the plan is made again. A unique
key per reservation row makes a retried activity return the first result instead of
reserving twice.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.messages import Allocation, LineFacts, ReserveResult
from domain.model import Warehouse
from store import ledger
from store import tables as t
from store.catalog import all_warehouses

Planner = Callable[[list[LineFacts], dict[tuple[str, str], int], list[Warehouse]], ReserveResult]


class _LostRace(Exception):
    pass


def _free(buffer: int) -> ColumnElement[int]:
    """What may still be promised to a channel: on hand - reserved - safety stock - the
    channel's allocation buffer. In-transit stock is not on hand, so it is never promised."""
    return t.stock.c.on_hand - t.stock.c.reserved - t.stock.c.safety_stock - buffer


async def availability(conn: AsyncConnection, skus: list[str], buffer: int = 0) -> dict[tuple[str, str], int]:
    rows = await conn.execute(
        select(t.stock.c.sku, t.stock.c.warehouse, _free(buffer)).where(t.stock.c.sku.in_(skus))
    )
    return {(r[0], r[1]): max(int(r[2]), 0) for r in rows}


async def held_reservations(conn: AsyncConnection, order_id: str, key_prefix: str) -> list[Allocation]:
    rows = await conn.execute(
        select(t.reservations).where(
            t.reservations.c.order_id == order_id,
            t.reservations.c.key.like(f"{key_prefix}%"),
        ).order_by(t.reservations.c.id)
    )
    return [Allocation(line_no=r.line_no, sku=r.sku, warehouse=r.warehouse, quantity=r.quantity)
            for r in rows]


async def reserve(
    engine: AsyncEngine,
    order_id: str,
    attempt_key: str,
    lines: list[LineFacts],
    plan: Planner,
    allow_partial: bool,
    max_races: int = 20,
    buffer: int = 0,
) -> ReserveResult:
    """Reserve by plan; when `allow_partial` is false, reserve nothing unless all fits.
    `buffer` units of every stock row are kept back from this order's channel."""
    key_prefix = f"{order_id}:{attempt_key}:"
    for _ in range(max_races):
        try:
            async with engine.begin() as conn:
                existing = await held_reservations(conn, order_id, key_prefix)
                if existing:
                    return ReserveResult(allocations=existing, shortages=[])
                avail = await availability(conn, sorted({ln.sku for ln in lines}), buffer)
                result = plan(lines, avail, await all_warehouses(conn))
                if result.shortages and not allow_partial:
                    return ReserveResult(allocations=result.allocations, shortages=result.shortages,
                                         reserved=False)
                for a in result.allocations:
                    moved = await conn.execute(
                        update(t.stock)
                        .where(
                            t.stock.c.sku == a.sku,
                            t.stock.c.warehouse == a.warehouse,
                            _free(buffer) >= a.quantity,
                        )
                        .values(reserved=t.stock.c.reserved + a.quantity)
                    )
                    if moved.rowcount != 1:
                        raise _LostRace
                    key = f"{key_prefix}{a.line_no}:{a.warehouse}"
                    await ledger.record(conn, a.sku, a.warehouse, "reserve", key, reserved=a.quantity)
                    await conn.execute(t.reservations.insert().values(
                        key=key, order_id=order_id,
                        line_no=a.line_no, sku=a.sku, warehouse=a.warehouse,
                        quantity=a.quantity, status="held",
                    ))
                return result
        except _LostRace:
            continue
    raise RuntimeError(f"stock for {order_id} kept changing under {max_races} attempts; retry")


async def _settle(engine: AsyncEngine, order_id: str, new_status: str, skus: set[str] | None) -> int:
    """Move held reservations to released (stock returns) or consumed (stock leaves)."""
    count = 0
    async with engine.begin() as conn:
        rows = (await conn.execute(
            select(t.reservations).where(
                t.reservations.c.order_id == order_id, t.reservations.c.status == "held")
        )).all()
        for r in rows:
            if skus is not None and f"{r.sku}@{r.warehouse}" not in skus:
                continue
            changed = await conn.execute(
                update(t.reservations)
                .where(t.reservations.c.id == r.id, t.reservations.c.status == "held")
                .values(status=new_status)
            )
            if changed.rowcount != 1:
                continue
            values = {"reserved": t.stock.c.reserved - r.quantity}
            if new_status == "consumed":
                values["on_hand"] = t.stock.c.on_hand - r.quantity
            await ledger.record(conn, r.sku, r.warehouse, "ship" if new_status == "consumed" else "release",
                                r.key, on_hand=-r.quantity if new_status == "consumed" else 0,
                                reserved=-r.quantity)
            await conn.execute(
                update(t.stock)
                .where(t.stock.c.sku == r.sku, t.stock.c.warehouse == r.warehouse)
                .values(**values)
            )
            count += r.quantity
    return count


async def release(engine: AsyncEngine, order_id: str) -> int:
    return await _settle(engine, order_id, "released", None)


async def consume(engine: AsyncEngine, order_id: str, sku_at_warehouse: set[str]) -> int:
    """Stock leaves with a shipment: `{"SKU@WH", ...}` names what it carried."""
    return await _settle(engine, order_id, "consumed", sku_at_warehouse)


async def stock_row(engine: AsyncEngine, sku: str, warehouse: str) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (await conn.execute(
            select(t.stock.c.on_hand, t.stock.c.reserved)
            .where(t.stock.c.sku == sku, t.stock.c.warehouse == warehouse)
        )).one()
    return int(row[0]), int(row[1])
