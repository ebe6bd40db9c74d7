"""The decision log and the rule-change log: what each order was decided with, and when
each rule set version went live. Both are append-only."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.messages import BookingEvent, Decision
from domain.records import DecisionRow, RuleVersionRecord
from store import audit, followups
from store import tables as t


async def record_decision(engine: AsyncEngine, order_id: str, key: str, d: Decision) -> None:
    """Unique key from the workflow, so a retried activity does not log a decision twice."""
    try:
        async with engine.begin() as conn:
            await conn.execute(t.decisions.insert().values(
                key=key, order_id=order_id, step=d.step, ruleset=d.ruleset, version=d.version,
                fired=d.fired, facts=d.facts, outcome=d.outcome.model_dump(mode="json"),
                decided_at=d.decided_at,
                evaluator=d.evaluator))
    except IntegrityError:
        pass


async def record_booking_event(engine: AsyncEngine, event: BookingEvent) -> None:
    """Once per (decision, try): a retried activity finds its entry there already."""
    detail = event.model_dump(mode="json", exclude={"decision_key", "order_id", "seq", "kind"})
    try:
        async with engine.begin() as conn:
            await conn.execute(t.decision_followups.insert().values(
                decision_key=event.decision_key, seq=event.seq, order_id=event.order_id,
                kind=event.kind, detail=detail))
    except IntegrityError:
        pass


async def followups_for_order(engine: AsyncEngine, order_id: str) -> list[BookingEvent]:
    async with engine.connect() as conn:
        return await followups.for_order(conn, order_id)


async def decisions_for_order(engine: AsyncEngine, order_id: str) -> list[DecisionRow]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.decisions).where(t.decisions.c.order_id == order_id)
                                  .order_by(t.decisions.c.id))
        return [DecisionRow.model_validate(r._mapping) for r in rows]


async def past_decisions(engine: AsyncEngine, since: dt.datetime | None, limit: int | None,
                         batch: int = 2000) -> AsyncIterator[list[dict[str, Any]]]:
    """Decisions of the `limit` most recent orders created since `since`, in batches."""
    async with engine.connect() as conn:
        orders = select(t.orders.c.order_id).order_by(t.orders.c.created_at.desc(), t.orders.c.order_id)
        if since is not None:
            orders = orders.where(t.orders.c.created_at >= since)
        if limit is not None:
            orders = orders.limit(limit)
        order_ids = [r.order_id for r in await conn.execute(orders)]
        cols = (t.decisions.c.order_id, t.decisions.c.step, t.decisions.c.ruleset, t.decisions.c.version,
                t.decisions.c.fired, t.decisions.c.facts, t.decisions.c.outcome,
                t.decisions.c.decided_at, t.decisions.c.created_at)
        for start in range(0, len(order_ids), batch):
            chunk = order_ids[start:start + batch]
            rows = await conn.execute(select(*cols).where(t.decisions.c.order_id.in_(chunk))
                                      .order_by(t.decisions.c.id))
            yield [dict(r._mapping) for r in rows]


async def latest_version(engine: AsyncEngine, ruleset: str) -> RuleVersionRecord | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(t.rule_versions).where(t.rule_versions.c.ruleset == ruleset)
                                  .order_by(t.rule_versions.c.seq.desc()).limit(1))).first()
        return RuleVersionRecord.model_validate(row._mapping) if row else None


async def append_version(engine: AsyncEngine, entry: dict[str, Any], audit_key: bytes | None = None) -> bool:
    """Append at the next sequence number; False when another process appended first. With
    `audit_key`, the version going live is in the audit trail too, in the same transaction."""
    try:
        async with engine.begin() as conn:
            await conn.execute(t.rule_versions.insert().values(**entry))
            if audit_key is not None:
                await audit.append(conn, audit_key, entry["loaded_by"] or "system:rules",
                                   "rules.version_live", f"{entry['ruleset']}@{entry['version']}",
                                   {"previous_version": entry["previous_version"], "source": entry["source"],
                                    "summary": entry["summary"]})
        return True
    except IntegrityError:
        return False


async def log_version(engine: AsyncEngine, ruleset: str, version: str,
                      entry: Callable[[RuleVersionRecord | None], dict[str, Any]],
                      audit_key: bytes | None = None) -> bool:
    """Append `version` to the log unless it is already the latest there; `entry` builds the
    row from the latest one (its diff summary). True when this call appended it."""
    for _ in range(5):  # lost the race for the next sequence number: look again
        latest = await latest_version(engine, ruleset)
        if latest is not None and latest.version == version:
            return False
        row = {**entry(latest), "ruleset": ruleset, "version": version,
               "seq": (latest.seq + 1) if latest else 1,
               "previous_version": latest.version if latest else None}
        if await append_version(engine, row, audit_key):
            return True
    return False


async def list_versions(engine: AsyncEngine, ruleset: str | None = None,
                        limit: int = 100) -> list[RuleVersionRecord]:
    async with engine.connect() as conn:
        query = select(t.rule_versions).order_by(t.rule_versions.c.id.desc()).limit(limit)
        if ruleset:
            query = query.where(t.rule_versions.c.ruleset == ruleset)
        return [RuleVersionRecord.model_validate(r._mapping) for r in await conn.execute(query)]


async def version_contents(engine: AsyncEngine) -> dict[tuple[str, str], dict[str, Any]]:
    """Every logged rule set version's content, by (ruleset, version)."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.rule_versions.c.ruleset, t.rule_versions.c.version,
                                         t.rule_versions.c.content))
        return {(r.ruleset, r.version): r.content for r in rows}
