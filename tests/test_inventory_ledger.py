"""The reservation ledger under real concurrent connections, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from domain.messages import LineFacts
from domain.model import Catalogue, Product, StockLevel, Temperature
from domain.sourcing import plan_sourcing
from store import inventory
from store import tables as t
from store.catalog import import_catalogue
from store.db import make_engine
from tests.harness import prepare_database


def one_unit(order_no: int) -> list[LineFacts]:
    return [LineFacts(line_no=0, sku="RARE-1", quantity=1, weight_g=100, temperature=Temperature.AMBIENT,
                      hazmat=False, oversize=False)]


async def test_concurrent_reservations_never_exceed_stock_and_retries_do_not_double(db_url: str) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        await import_catalogue(engine, Catalogue(
            products=[Product(sku="RARE-1", name="rare", unit_price="10.00", weight_g=100)],  # type: ignore[arg-type]
            stock=[StockLevel(sku="RARE-1", warehouse=w, on_hand=q)
                   for w, q in (("SH-01", 20), ("GZ-01", 17), ("BJ-01", 13))]))

        def plan(lines, avail, whs):  # type: ignore[no-untyped-def]
            return plan_sourcing(lines, avail, whs, "上海")

        async def order(i: int) -> bool:
            result = await inventory.reserve(engine, f"o-{i}", "r1", one_unit(i), plan, allow_partial=False)
            if result.reserved:  # a retried activity gets the same reservation, not a second one
                again = await inventory.reserve(engine, f"o-{i}", "r1", one_unit(i), plan,
                                                allow_partial=False)
                assert again.allocations == result.allocations
            return result.reserved

        outcomes = await asyncio.gather(*(order(i) for i in range(200)))
        assert sum(outcomes) == 50
        async with engine.connect() as conn:
            held = (await conn.execute(select(func.sum(t.reservations.c.quantity)).where(
                t.reservations.c.sku == "RARE-1", t.reservations.c.status == "held"))).scalar_one()
            rows = (await conn.execute(select(t.stock.c.on_hand, t.stock.c.reserved)
                                       .where(t.stock.c.sku == "RARE-1"))).all()
        assert held == 50
        assert all(reserved == on_hand for on_hand, reserved in rows)

        winner = f"o-{outcomes.index(True)}"
        assert await inventory.release(engine, winner) == 1
        assert await inventory.release(engine, winner) == 0  # releasing twice releases nothing
        async with engine.connect() as conn:
            reserved = (await conn.execute(select(func.sum(t.stock.c.reserved))
                                           .where(t.stock.c.sku == "RARE-1"))).scalar_one()
        assert reserved == 49
    finally:
        await engine.dispose()
