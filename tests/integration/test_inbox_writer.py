"""The inbox's group commit: concurrent requests share transactions, each still learns
whether its payload was new, and the same key never makes two rows. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

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


async def test_dispatchers_claiming_at_once_never_take_one_row_twice(db_url: str) -> None:
    """Four dispatchers claim batches of 25 from 300 pending rows at the same time, over and
    over: every row is claimed by exactly one of them (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
    the single writer on SQLite)."""
    await prepare_database(db_url)
    db = make_engine(db_url)
    writer = inbox.InboxWriter(db)
    writer.start()
    try:
        await asyncio.gather(*(writer.put(row(f"c{i}", i)) for i in range(300)))
    finally:
        await writer.stop()
    taken: dict[str, list[int]] = {f"d{n}": [] for n in range(4)}
    try:
        async def dispatcher(name: str) -> None:
            while batch := await inbox.claim(db, 25, name):
                taken[name] += [r.id for r in batch]
                assert [r.id for r in batch] == sorted(r.id for r in batch)  # id order
        await asyncio.gather(*(dispatcher(name) for name in taken))
    finally:
        await db.dispose()
    ids = [i for batch in taken.values() for i in batch]
    assert len(ids) == 300 and len(set(ids)) == 300


async def test_a_change_waits_for_its_orders_start_and_an_expired_lease_is_taken_over(db_url: str) -> None:
    await prepare_database(db_url)
    db = make_engine(db_url)
    writer = inbox.InboxWriter(db)
    writer.start()
    try:
        order = await writer.put(row("w1", 1))
        cancel = await writer.put(
            inbox.row_for("canonical", "cancel", "w1", "shop-w1", "cancel", "0" * 64, {}))
    finally:
        await writer.stop()
    try:
        first = await inbox.claim(db, 10, "a")
        assert [r.id for r in first] == [order.inbox_id]  # the cancellation waits for the start
        assert await inbox.claim(db, 10, "b") == []  # a's lease holds the order row
        await inbox.settle(db, [(order.inbox_id, "pending", "Temporal busy")])  # a failed: free again
        retaken = await inbox.claim(db, 10, "b")
        assert [r.id for r in retaken] == [order.inbox_id]
        lapsed = await inbox.claim(db, 10, "c", lease=dt.timedelta(seconds=-1))  # b's lease runs out
        assert lapsed == []  # ...not yet: b's lease is a minute
        await inbox.settle(db, [(order.inbox_id, "done", "started")])
        short = await inbox.claim(db, 10, "c", lease=dt.timedelta(seconds=-1))
        assert [r.id for r in short] == [cancel.inbox_id]  # the order started: now its change
        assert [r.id for r in await inbox.claim(db, 10, "d")] == [cancel.inbox_id]  # c's lease expired
    finally:
        await db.dispose()
