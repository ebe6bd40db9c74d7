"""The audit trail: append-only rows, each chained to the one before by an HMAC-SHA256 over
its contents and the previous row's hash.

The hash is keyed (the audit key lives outside the database, in `var/keys/` or the
environment), so someone who can write to the database but not read the key cannot edit a
row and recompute the chain after it. `audit_head` holds the last seq and hash: appending
updates it first, which queues concurrent appenders on its row lock (PostgreSQL) or the
write lock (SQLite), and it also reveals rows cut off the end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store import tables as t
from store.db import utc

GENESIS = "0" * 64


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class ChainCheck(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def row_hash(key: bytes, seq: int, at: datetime, actor: str, action: str, target: str,
             detail: dict[str, Any], prev_hash: str) -> str:
    body = json.dumps([seq, utc(at).isoformat(timespec="microseconds"), actor, action, target,
                       detail, prev_hash], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


async def append(conn: AsyncConnection, key: bytes, actor: str, action: str, target: str = "",
                 detail: dict[str, Any] | None = None) -> AuditEntry:
    """Add one row inside the caller's transaction, so the change and its record commit or
    roll back together."""
    head = (await conn.execute(
        update(t.audit_head).where(t.audit_head.c.id == 1).values(seq=t.audit_head.c.seq + 1)
        .returning(t.audit_head.c.seq, t.audit_head.c.hash))).one()
    seq, prev = int(head.seq), str(head.hash)
    at = datetime.now(UTC)
    detail = detail or {}
    digest = row_hash(key, seq, at, actor, action, target, detail, prev)
    await conn.execute(t.audit_log.insert().values(seq=seq, at=at, actor=actor, action=action, target=target,
                                                   detail=detail, prev_hash=prev, hash=digest))
    await conn.execute(update(t.audit_head).where(t.audit_head.c.id == 1).values(hash=digest))
    return AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target, detail=detail,
                      prev_hash=prev, hash=digest)


async def entries(conn: AsyncConnection, actor: str | None = None, action: str | None = None,
                  target: str | None = None, since: datetime | None = None, limit: int = 100
                  ) -> list[AuditEntry]:
    """Newest first."""
    q = select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(limit)
    if actor:
        q = q.where(t.audit_log.c.actor == actor)
    if action:
        q = q.where(t.audit_log.c.action.like(action.replace("*", "%")))
    if target:
        q = q.where(t.audit_log.c.target == target)
    if since:
        q = q.where(t.audit_log.c.at >= since)
    return [AuditEntry.model_validate(r._mapping) for r in (await conn.execute(q)).all()]


async def verify(conn: AsyncConnection, key: bytes, batch: int = 5000) -> ChainCheck:
    """Walk the chain from its first row and name the first that was changed, deleted or
    inserted out of order; then check nothing was cut off its end."""
    expected_seq, prev, checked = 1, GENESIS, 0
    while True:
        rows = (await conn.execute(select(t.audit_log).where(t.audit_log.c.seq >= expected_seq)
                                   .order_by(t.audit_log.c.seq).limit(batch))).all()
        for r in rows:
            if r.seq != expected_seq:
                return ChainCheck(ok=False, checked=checked, first_bad_seq=expected_seq,
                                  problem=f"row {expected_seq} is missing: deleted (the next row is {r.seq})")
            if r.prev_hash != prev:
                return ChainCheck(ok=False, checked=checked, first_bad_seq=r.seq,
                                  problem=f"row {r.seq} does not follow row {r.seq - 1}: "
                                          "inserted out of order or the row before it was replaced")
            digest = row_hash(key, r.seq, r.at, r.actor, r.action, r.target, r.detail, r.prev_hash)
            if not hmac.compare_digest(digest, r.hash):
                return ChainCheck(ok=False, checked=checked, first_bad_seq=r.seq,
                                  problem=f"row {r.seq} was changed after it was written")
            prev, expected_seq, checked = r.hash, expected_seq + 1, checked + 1
        if len(rows) < batch:
            break
    head = (await conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash))).one()
    if head.seq != checked or head.hash != prev:
        return ChainCheck(ok=False, checked=checked, first_bad_seq=checked + 1,
                          problem=f"the trail ends at row {checked} but {head.seq} were written: "
                                  "rows were deleted from its end")
    return ChainCheck(ok=True, checked=checked)
