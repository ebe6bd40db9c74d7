"""The intake inbox and the dead letters: every payload Ordo acknowledged, and every one it
refused, kept as received.

Writes go through `InboxWriter`, a group commit: each request waits until its row is
committed (so a 202 means durable), but concurrent requests share one transaction, which
is what lets SQLite take a burst of thousands per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import FieldError
from domain.records import DeadLetterRecord, InboxRecord
from store import tables as t

MAX_BATCH = 256
CLAIM_LEASE = dt.timedelta(seconds=60)  # a dispatcher that dies holding rows frees them after this


@dataclass(frozen=True)
class Accepted:
    inbox_id: int
    order_id: str
    kind: str
    duplicate: bool


class InboxWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[Accepted]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        # a key another process inserted between our SELECT and INSERT is skipped here and
        # still answered from the final read
        self._insert_many = insert(t.inbox).on_conflict_do_nothing(index_elements=["dedupe_key"])

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def put(self, row: dict[str, Any]) -> Accepted:
        """Returns once the row (or the earlier row with its dedupe key) is committed."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        await self._queue.put((row, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._write([row for row, _ in batch])
            except Exception as exc:  # every waiting request answers 503 and the sender retries
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _write(self, rows: list[dict[str, Any]]) -> list[Accepted]:
        """Three statements per batch, whatever its size: which keys exist, insert the new
        ones (first of each key), read back every key's id."""
        keys = list(dict.fromkeys(row["dedupe_key"] for row in rows))
        key_col = t.inbox.c.dedupe_key
        async with self.engine.begin() as conn:
            existing = {r.dedupe_key for r in await conn.execute(select(key_col).where(key_col.in_(keys)))}
            fresh: dict[str, dict[str, Any]] = {}
            for row in rows:
                if row["dedupe_key"] not in existing and row["dedupe_key"] not in fresh:
                    fresh[row["dedupe_key"]] = row
            if fresh:
                await conn.execute(self._insert_many, list(fresh.values()))
            ids = {
                r.dedupe_key: (r.id, r.order_id)
                for r in await conn.execute(
                    select(t.inbox.c.id, key_col, t.inbox.c.order_id).where(key_col.in_(keys))
                )
            }
        out: list[Accepted] = []
        first_of: set[str] = set()
        for row in rows:
            key = row["dedupe_key"]
            new = key in fresh and key not in first_of and fresh[key] is row
            first_of.add(key)
            inbox_id, order_id = ids[key]
            out.append(Accepted(inbox_id, order_id, row["kind"], not new))
        return out


def row_for(
    channel: str,
    kind: str,
    external_id: str,
    order_id: str,
    body: str,
    content_hash: str,
    canonical: dict[str, Any],
) -> dict[str, Any]:
    key = f"{kind}:{channel}:{external_id}"
    if kind in ("address", "hold"):  # each distinct update is its own change; a redelivery is not
        key += f":{content_hash[:16]}"
    return {
        "channel": channel,
        "kind": kind,
        "dedupe_key": key,
        "content_hash": content_hash,
        "order_id": order_id,
        "body": body,
        "canonical": canonical,
        "state": "pending",
        "attempts": 0,
        "received_at": dt.datetime.now(dt.UTC),
    }


async def pending(engine: AsyncEngine, limit: int) -> list[InboxRecord]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.inbox).where(t.inbox.c.state == "pending").order_by(t.inbox.c.id).limit(limit)
        )
        return [InboxRecord.model_validate(r._mapping) for r in rows]


async def claim(engine: AsyncEngine, limit: int, claimer: str,
                lease: dt.timedelta = CLAIM_LEASE) -> list[InboxRecord]:
    """Pending rows leased to `claimer` until now + `lease`, in id order, so that several
    dispatchers share the inbox and no row is started by two of them. A row is taken when
    no other dispatcher holds an unexpired lease on it and no earlier row of the same order
    is still pending (a cancellation waits for its order's start, whoever holds that).

    One UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING: on PostgreSQL
    two dispatchers claiming at once skip each other's rows instead of waiting or taking
    them twice; SQLite runs the statement under its single writer lock, atomic the same."""
    now = dt.datetime.now(dt.UTC)
    i = t.inbox.c
    earlier = t.inbox.alias("earlier")
    blocked = select(earlier.c.id).where(
        earlier.c.order_id == i.order_id, earlier.c.state == "pending", earlier.c.id < i.id).exists()
    free = i.claimed_until.is_(None) | (i.claimed_until < now)
    candidates = (select(i.id).where(i.state == "pending", free, ~blocked).order_by(i.id).limit(limit)
                  .with_for_update(skip_locked=True, of=t.inbox))
    async with engine.connect() as conn:  # an idle poll reads, and takes no write lock
        if (await conn.execute(select(i.id).where(i.state == "pending", free).limit(1))).first() is None:
            return []
    async with engine.begin() as conn:
        rows = await conn.execute(
            update(t.inbox).where(i.id.in_(candidates.scalar_subquery()))
            .values(claimed_by=claimer, claimed_until=now + lease).returning(*t.inbox.c))
        claimed = [InboxRecord.model_validate(r._mapping) for r in rows]
    return sorted(claimed, key=lambda r: r.id)


async def for_order(engine: AsyncEngine, order_id: str) -> list[InboxRecord]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.inbox).where(t.inbox.c.order_id == order_id).order_by(t.inbox.c.id)
        )
        return [InboxRecord.model_validate(r._mapping) for r in rows]


async def settle(engine: AsyncEngine, results: list[tuple[int, str, str]]) -> None:
    """(inbox id, new state, outcome): `pending` again means try later."""
    if not results:
        return
    now = dt.datetime.now(dt.UTC)
    async with engine.begin() as conn:
        for inbox_id, state, outcome in results:
            await conn.execute(
                update(t.inbox)
                .where(t.inbox.c.id == inbox_id)
                .values(
                    state=state,
                    outcome=outcome,
                    attempts=t.inbox.c.attempts + 1,
                    dispatched_at=now if state != "pending" else None,
                    claimed_until=None,  # settled, or free for any dispatcher to try again
                )
            )


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.inbox.c.state, func.count()).group_by(t.inbox.c.state))
        return {r[0]: int(r[1]) for r in rows}


async def add_dead_letter(
    engine: AsyncEngine, channel: str, body: str, errors: list[FieldError], topic: str = ""
) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            t.dead_letters.insert().values(
                channel=channel, body=body, errors=[e.model_dump() for e in errors], topic=topic
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


async def dead_letters(
    engine: AsyncEngine,
    limit: int = 100,
    include_resolved: bool = False,
) -> list[DeadLetterRecord]:
    async with engine.connect() as conn:
        query = select(t.dead_letters).order_by(t.dead_letters.c.id.desc()).limit(limit)
        if not include_resolved:
            query = query.where(t.dead_letters.c.resolved_inbox_id.is_(None))
        return [DeadLetterRecord.model_validate(r._mapping) for r in await conn.execute(query)]


async def unresolved_dead_letters(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(t.dead_letters)
                                       .where(t.dead_letters.c.resolved_inbox_id.is_(None)))).scalar_one())


async def dead_letter(engine: AsyncEngine, dead_letter_id: int) -> DeadLetterRecord | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(t.dead_letters).where(t.dead_letters.c.id == dead_letter_id))
        ).first()
        return DeadLetterRecord.model_validate(row._mapping) if row else None


async def mark_retried(
    engine: AsyncEngine, dead_letter_id: int, inbox_id: int | None, errors: list[FieldError] | None = None
) -> None:
    values: dict[str, Any] = {"retried_at": dt.datetime.now(dt.UTC), "resolved_inbox_id": inbox_id}
    if errors is not None:
        values["errors"] = [e.model_dump() for e in errors]
    async with engine.begin() as conn:
        await conn.execute(
            update(t.dead_letters).where(t.dead_letters.c.id == dead_letter_id).values(**values)
        )


async def pending_count(engine: AsyncEngine) -> int:
    """Accepted, not yet started: the dispatcher's backlog (an index lookup, not a scan)."""
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(t.inbox)
                                       .where(t.inbox.c.state == "pending"))).scalar_one())
