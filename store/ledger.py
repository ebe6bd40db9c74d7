"""The stock ledger: one row per movement, written in the same transaction as the change
to `stock`, so the balance can always be recomputed and checked (`ordo inventory audit`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.records import StockLevel, StockMovementRecord, WarehouseStock
from store import tables as t

KINDS = ("opening", "receipt", "adjustment", "reserve", "release", "ship",
         "transfer_out", "transfer_in", "transfer_back",
         "defective")  # CC units in (a graded return, damage found) or out (refurbished, scrapped)


async def record(
    conn: AsyncConnection,
    sku: str,
    warehouse: str,
    kind: str,
    reference: str,
    on_hand: int = 0,
    reserved: int = 0,
    in_transit: int = 0,
    defective: int = 0,
) -> None:
    assert kind in KINDS, kind
    await conn.execute(
        t.stock_movements.insert().values(
            sku=sku,
            warehouse=warehouse,
            kind=kind,
            on_hand_delta=on_hand,
            reserved_delta=reserved,
            in_transit_delta=in_transit,
            defective_delta=defective,
            reference=reference[:240],
        )
    )


@dataclass(frozen=True)
class Drift:
    sku: str
    warehouse: str
    on_hand: int  # in the stock table
    on_hand_ledger: int  # the sum of its movements
    reserved: int
    reserved_ledger: int
    held: int  # units in held reservation rows
    in_transit: int = 0
    in_transit_ledger: int = 0
    defective: int = 0
    defective_ledger: int = 0

    def describe(self) -> str:
        parts = []
        if self.on_hand != self.on_hand_ledger:
            parts.append(f"on hand {self.on_hand}, ledger says {self.on_hand_ledger}")
        if self.reserved != self.reserved_ledger:
            parts.append(f"reserved {self.reserved}, ledger says {self.reserved_ledger}")
        if self.reserved != self.held:
            parts.append(f"reserved {self.reserved}, held reservations add up to {self.held}")
        if self.in_transit != self.in_transit_ledger:
            parts.append(f"in transit {self.in_transit}, ledger says {self.in_transit_ledger}")
        if self.defective != self.defective_ledger:
            parts.append(f"defective {self.defective}, ledger says {self.defective_ledger}")
        return "; ".join(parts)


async def audit(engine: AsyncEngine) -> tuple[int, list[Drift]]:
    """(stock rows checked, the ones whose balance the ledger or the reservations disagree with)."""
    async with engine.connect() as conn:
        sums = {
            (r.sku, r.warehouse): (int(r.on_hand), int(r.reserved), int(r.in_transit), int(r.defective))
            for r in await conn.execute(
                select(
                    t.stock_movements.c.sku,
                    t.stock_movements.c.warehouse,
                    func.sum(t.stock_movements.c.on_hand_delta).label("on_hand"),
                    func.sum(t.stock_movements.c.reserved_delta).label("reserved"),
                    func.sum(t.stock_movements.c.in_transit_delta).label("in_transit"),
                    func.sum(t.stock_movements.c.defective_delta).label("defective"),
                ).group_by(t.stock_movements.c.sku, t.stock_movements.c.warehouse)
            )
        }
        held = {
            (r.sku, r.warehouse): int(r.q)
            for r in await conn.execute(
                select(
                    t.reservations.c.sku,
                    t.reservations.c.warehouse,
                    func.sum(t.reservations.c.quantity).label("q"),
                )
                .where(t.reservations.c.status == "held")
                .group_by(t.reservations.c.sku, t.reservations.c.warehouse)
            )
        }
        stock = (await conn.execute(select(t.stock))).all()
    drifts = []
    keys = {(r.sku, r.warehouse) for r in stock} | set(sums)
    rows = {(r.sku, r.warehouse): r for r in stock}
    for key in sorted(keys):
        row = rows.get(key)
        on_hand, reserved, in_transit, defective = (
            (int(row.on_hand), int(row.reserved), int(row.in_transit), int(row.defective))
            if row else (0, 0, 0, 0)
        )
        ledger = sums.get(key, (0, 0, 0, 0))
        d = Drift(key[0], key[1], on_hand, ledger[0], reserved, ledger[1], held.get(key, 0),
                  in_transit, ledger[2], defective, ledger[3])
        if d.describe():
            drifts.append(d)
    return len(keys), drifts


async def availability(
    engine: AsyncEngine, sku: str, channel_buffers: dict[str, int] | None = None
) -> list[WarehouseStock]:
    """Per warehouse: on hand, reserved, safety stock, available, and what each channel with
    an allocation buffer may still take (available less its buffer)."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.stock).where(t.stock.c.sku == sku).order_by(t.stock.c.warehouse))
        levels = []
        for r in rows:
            available = max(r.on_hand - r.reserved - r.safety_stock, 0)
            levels.append(WarehouseStock(
                warehouse=r.warehouse, on_hand=r.on_hand, reserved=r.reserved, safety_stock=r.safety_stock,
                available=available, in_transit=r.in_transit, defective=r.defective,
                by_channel={ch: max(available - b, 0) for ch, b in sorted((channel_buffers or {}).items())},
            ))
        return levels


async def movement_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(t.stock_movements))).scalar_one())


async def movements(engine: AsyncEngine, sku: str, limit: int = 50) -> list[StockMovementRecord]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.stock_movements)
            .where(t.stock_movements.c.sku == sku)
            .order_by(t.stock_movements.c.id.desc())
            .limit(limit)
        )
        return [StockMovementRecord.model_validate(r._mapping) for r in rows]


RECEIPT_TYPES = ("CGRK", "DBRK", "THRK", "HHRK", "B2BRK")  # purchase, transfer, return, exchange inbound


@dataclass(frozen=True)
class StockChange:
    out_biz_code: str
    sku: str
    warehouse: str
    quantity: int  # signed: + stock arrived, - stock left or was written off
    order_type: str
    inventory_type: str = "ZP"  # ZP sellable (on hand) or CC defective

    @property
    def key(self) -> str:
        """The WMS's idempotency key; one report may move the same code's units from CC to ZP."""
        if self.inventory_type == "ZP":
            return self.out_biz_code
        return f"{self.out_biz_code}:{self.inventory_type}"


async def apply_stock_change(engine: AsyncEngine, change: StockChange) -> str:
    """Apply one WMS stock change once (keyed by outBizCode and inventory type): `applied`,
    `duplicate`, or a refusal in words (unknown stock row, on hand would fall below what is
    reserved, or defective stock below zero). ZP changes move on hand, CC changes the
    defective count, which is never sold."""
    defective = change.inventory_type == "CC"
    if defective:
        kind = "defective"
    else:
        kind = "receipt" if change.quantity > 0 and change.order_type in RECEIPT_TYPES else "adjustment"
    try:
        async with engine.begin() as conn:
            await conn.execute(
                t.wms_events.insert().values(
                    out_biz_code=change.key[:100],
                    sku=change.sku,
                    warehouse=change.warehouse,
                    quantity=change.quantity,
                    order_type=change.order_type,
                )
            )
            where = [t.stock.c.sku == change.sku, t.stock.c.warehouse == change.warehouse]
            balances = select(t.stock.c.on_hand, t.stock.c.reserved, t.stock.c.defective).where(*where)
            row = (await conn.execute(balances)).first()
            if row is None:
                raise _Refused(
                    f"no stock row for {change.sku} at {change.warehouse}; import the product first"
                )
            if defective and row.defective + change.quantity < 0:
                raise _Refused(
                    f"{change.sku}@{change.warehouse}: defective stock would fall to "
                    f"{row.defective + change.quantity}; Ordo holds {row.defective} defective"
                )
            if not defective and row.on_hand + change.quantity < row.reserved:
                raise _Refused(
                    f"{change.sku}@{change.warehouse}: on hand would fall to "
                    f"{row.on_hand + change.quantity}, below the {row.reserved} reserved"
                )
            column = t.stock.c.defective if defective else t.stock.c.on_hand
            await conn.execute(update(t.stock).where(*where).values({column: column + change.quantity}))
            await record(
                conn,
                change.sku,
                change.warehouse,
                kind,
                f"wms:{change.key}",
                **{"defective" if defective else "on_hand": change.quantity},
            )
    except IntegrityError:
        return "duplicate"
    except _Refused as exc:
        return str(exc)
    return "applied"


class _Refused(Exception):
    pass


async def backordered_for(engine: AsyncEngine, sku: str) -> list[str]:
    """Orders waiting for stock of a SKU, most urgent first (express lane, then oldest)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.orders.c.order_id)
            .join(t.order_lines, t.order_lines.c.order_id == t.orders.c.order_id)
            .where(t.orders.c.status == "backordered", t.order_lines.c.sku == sku)
            .group_by(t.orders.c.order_id, t.orders.c.priority, t.orders.c.created_at)
            .order_by(
                case((t.orders.c.priority == "express", 0), (t.orders.c.priority == "standard", 1), else_=2),
                t.orders.c.created_at,
                t.orders.c.order_id,
            )
        )
        return [r.order_id for r in rows]


async def stock_levels(engine: AsyncEngine, warehouses: tuple[str, ...], low_line: int, sku: str = "",
                       low_only: bool = False, limit: int = 1000) -> list[StockLevel]:
    """Every SKU at every warehouse (in `warehouses`, if any), lowest availability first."""
    st = t.stock.c
    available = st.on_hand - st.reserved - st.safety_stock
    query = (select(st.sku, t.products.c.name, st.warehouse, st.on_hand, st.reserved, st.safety_stock,
                    st.in_transit, st.defective, available.label("available"))
             .select_from(t.stock.join(t.products, t.products.c.sku == st.sku)))
    if warehouses:
        query = query.where(st.warehouse.in_(warehouses))
    if sku:
        query = query.where(st.sku.startswith(sku, autoescape=True))
    if low_only:
        query = query.where(available <= low_line)
    async with engine.connect() as conn:
        rows = await conn.execute(query.order_by(available, st.sku, st.warehouse).limit(limit))
        return [StockLevel(**{**r._mapping, "available": max(r.available, 0), "low": r.available <= low_line})
                for r in rows]
