"""The inbox's group commit: concurrent requests share transactions, each still learns
whether its payload was new, and the same key never makes two rows. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from store import inbox
from store import tables as t
from store.db import make_engine
from tests.harness import prepare_database


def row(key: str, n: int) -> dict[str, object]:
    return inbox.row_for("canonical", "order", key, f"shop-{key}", f"body {n}", f"{n:064d}", {"n": n})


async def test_concurrent_puts_dedupe_within_and_across_batches(db_url: str) -> None:
    await prepare_database(db_url)
    db = make_engine(db_url)
    writer = inbox.InboxWriter(db)
    writer.start()
    try:
        # 600 requests for 200 distinct orders, each sent three times at once
        results = await asyncio.gather(*(writer.put(row(f"k{i % 200}", i)) for i in range(600)))
        again = await writer.put(row("k7", 9999))
    finally:
        await writer.stop()
    try:
        async with db.connect() as conn:
            stored = (await conn.execute(select(func.count()).select_from(t.inbox))).scalar_one()
    finally:
        await db.dispose()
    assert stored == 200
    new = [r for r in results if not r.duplicate]
    assert sorted(r.order_id for r in new) == sorted(f"shop-k{i}" for i in range(200))  # one new each
    by_order: dict[str, set[int]] = {}
    for r in results:
        by_order.setdefault(r.order_id, set()).add(r.inbox_id)
    assert all(len(ids) == 1 for ids in by_order.values())  # every copy points at the same row
    assert again.duplicate and again.inbox_id == next(iter(by_order["shop-k7"]))
