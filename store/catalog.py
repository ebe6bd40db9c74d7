"""Catalogue import and look-ups: products, warehouses, stock and carriers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.model import Carrier, Catalogue, Product, Warehouse
from store import ledger
from store import tables as t


async def _upsert(conn: AsyncConnection, table: Any, keys: Iterable[str], row: dict[str, Any]) -> bool:
    """Insert or update by primary key; portable across SQLite and PostgreSQL."""
    where = [table.c[k] == row[k] for k in keys]
    found = (await conn.execute(select(*[table.c[k] for k in keys]).where(*where))).first()
    if found:
        await conn.execute(table.update().where(*where).values(**row))
        return False
    await conn.execute(table.insert().values(**row))
    return True


async def import_catalogue(engine: AsyncEngine, catalogue: Catalogue,
                           source: str = "catalogue import") -> dict[str, int]:
    """Products, warehouses and carriers are upserted; stock sets on-hand (reserved stays),
    each change written to the ledger as a receipt (new row) or an adjustment."""
    counts = {"products": 0, "warehouses": 0, "stock": 0, "carriers": 0}
    async with engine.begin() as conn:
        for p in catalogue.products:
            await _upsert(conn, t.products, ["sku"], {
                "sku": p.sku, "name": p.name, "unit_price": p.unit_price, "weight_g": p.weight_g,
                "temperature": p.temperature.value, "hazmat": p.hazmat, "oversize": p.oversize,
                "volume_cm3": p.volume_cm3, "returnable": p.returnable,
            })
            counts["products"] += 1
        for w in catalogue.warehouses:
            await _upsert(conn, t.warehouses, ["code"], w.model_dump())
            counts["warehouses"] += 1
        for c in catalogue.carriers:
            await _upsert(conn, t.carriers, ["code"], {
                "code": c.code, "name": c.name, "spec": c.model_dump(mode="json"),
            })
            counts["carriers"] += 1
        known_skus = {r[0] for r in await conn.execute(select(t.products.c.sku))}
        known_whs = {r[0] for r in await conn.execute(select(t.warehouses.c.code))}
        for s in catalogue.stock:
            if s.sku not in known_skus:
                raise ValueError(f"stock: unknown sku '{s.sku}' - import the product first")
            if s.warehouse not in known_whs:
                raise ValueError(f"stock: unknown warehouse '{s.warehouse}' - import it first")
            where = [t.stock.c.sku == s.sku, t.stock.c.warehouse == s.warehouse]
            row = (await conn.execute(select(t.stock.c.reserved, t.stock.c.on_hand).where(*where))).first()
            if row is None:
                await conn.execute(t.stock.insert().values(
                    sku=s.sku, warehouse=s.warehouse, on_hand=s.on_hand, reserved=0,
                    safety_stock=s.safety_stock))
                await ledger.record(conn, s.sku, s.warehouse, "receipt", source, on_hand=s.on_hand)
            elif row[0] > s.on_hand:
                raise ValueError(
                    f"stock: {s.sku}@{s.warehouse} on_hand {s.on_hand} is below the "
                    f"{row[0]} units already reserved")
            else:
                await conn.execute(t.stock.update().where(*where).values(
                    on_hand=s.on_hand, safety_stock=s.safety_stock))
                if s.on_hand != row[1]:  # a count that differs from the books
                    await ledger.record(conn, s.sku, s.warehouse, "adjustment", source,
                                        on_hand=s.on_hand - int(row[1]))
            counts["stock"] += 1
    return counts


async def products_by_sku(conn: AsyncConnection, skus: Iterable[str]) -> dict[str, Product]:
    rows = await conn.execute(select(t.products).where(t.products.c.sku.in_(list(set(skus)))))
    return {r.sku: Product.model_validate(dict(r._mapping)) for r in rows}


async def all_products(conn: AsyncConnection) -> list[Product]:
    rows = await conn.execute(select(t.products).order_by(t.products.c.sku))
    return [Product.model_validate(dict(r._mapping)) for r in rows]


async def all_warehouses(conn: AsyncConnection) -> list[Warehouse]:
    rows = await conn.execute(select(t.warehouses).order_by(t.warehouses.c.code))
    return [Warehouse.model_validate(dict(r._mapping)) for r in rows]


async def all_carriers(conn: AsyncConnection) -> list[Carrier]:
    rows = await conn.execute(select(t.carriers.c.spec).order_by(t.carriers.c.code))
    return [Carrier.model_validate(r[0]) for r in rows]
