"""Making a customer's personal data unreadable wherever Ordo keeps it raw: the vault
records (store/vault.py), the raw payloads of their orders in the inbox, the dead letters
and return requests filed under those orders; and afterwards, on SQLite, the write-ahead log
that still holds the pages as they were (checkpointed and truncated). SQLite engines run
with `secure_delete`, so replaced content is zeroed in the file, not left in free space.

What stays is what the books need: orders with their lines, totals, statuses and decisions,
whose personal fields are vault references that now read `[erased]`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from domain.pii import ERASED
from store import tables as t

CLOSED = ("completed", "cancelled", "returned", "refunded")


async def orders_of(conn: AsyncConnection, customer_id: str) -> list[str]:
    """The customer's orders: stored, or still in the inbox (their vault records say whose)."""
    stored = await conn.execute(select(t.orders.c.order_id).where(t.orders.c.customer_id == customer_id))
    vaulted = await conn.execute(select(t.personal_data.c.order_id)
                                 .where(t.personal_data.c.customer_id == customer_id))
    return sorted({r.order_id for r in stored} | {r.order_id for r in vaulted})


async def purge_raw(conn: AsyncConnection, order_ids: list[str]) -> int:
    """Raw payloads filed under these orders: the inbox bodies, dead letters (a refused return
    is filed under its order), return requests' free-text notes. Rows changed."""
    if not order_ids:
        return 0
    inbox = update(t.inbox).where(t.inbox.c.order_id.in_(order_ids), t.inbox.c.body != ERASED)
    changed = (await conn.execute(inbox.values(body=ERASED))).rowcount
    changed += (await conn.execute(update(t.dead_letters).where(t.dead_letters.c.topic.in_(order_ids),
                                                                t.dead_letters.c.body != ERASED)
                                   .values(body=ERASED))).rowcount
    for row in (await conn.execute(select(t.returns.c.rma, t.returns.c.request)
                                   .where(t.returns.c.order_id.in_(order_ids)))).all():
        if row.request.get("note"):
            await conn.execute(update(t.returns).where(t.returns.c.rma == row.rma)
                               .values(request={**row.request, "note": ERASED}))
            changed += 1
    return int(changed)


async def erase_vault_of_orders(conn: AsyncConnection, order_ids: list[str], customer_id: str = "") -> int:
    """Every vault record of these orders (an address changed later is a record of its own),
    and of the customer; records erased."""
    whose: ColumnElement[bool] = t.personal_data.c.order_id.in_(order_ids)
    if customer_id:
        whose = or_(whose, t.personal_data.c.customer_id == customer_id)
    res = await conn.execute(update(t.personal_data).where(whose, t.personal_data.c.sealed != "")
                             .values(sealed="", erased_at=datetime.now(UTC)))
    return int(res.rowcount)


async def expired_orders(conn: AsyncConnection, before: datetime) -> list[str]:
    """Orders closed (completed, cancelled, returned) before `before` whose personal data is
    still readable."""
    live = select(t.personal_data.c.order_id).where(t.personal_data.c.sealed != "")
    rows = await conn.execute(select(t.orders.c.order_id).where(
        t.orders.c.status.in_(CLOSED), t.orders.c.updated_at < before, t.orders.c.order_id.in_(live)))
    return [r.order_id for r in rows]


async def purge_old_dead_letters(conn: AsyncConnection, before: datetime) -> int:
    """Dead letters older than `before`: a refused payload may hold anyone's data and names no
    customer, so retention is the only way to it."""
    res = await conn.execute(update(t.dead_letters).where(
        and_(t.dead_letters.c.created_at < before, t.dead_letters.c.body != ERASED)).values(body=ERASED))
    return int(res.rowcount)


async def compact(engine: AsyncEngine) -> None:
    """SQLite: copy the write-ahead log into the file and truncate it, so the pages as they
    were before the erasure are gone from disk too."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return
    await asyncio.to_thread(_checkpoint, engine.url.database)


def _checkpoint(path: str) -> None:
    """Outside any transaction (the engine's connections always begin one), waiting out readers."""
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
