"""What waits for a person: orders held or awaiting an operator, grouped by exception type,
oldest first, and returns awaiting review. Read with the indexes on status, one group page
at a time, so ten thousand waiting orders still answer in one round trip per group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.queries import WAITING
from store import tables as t
from store.db import utc

o = t.orders.c


class WaitingOrder(BaseModel):
    order_id: str
    channel: str
    status: str
    exception_type: str
    reason: str
    rule: list[str]  # the exception rules that fired for it, newest decision
    customer_tier: str
    total: Decimal
    currency: str
    created_at: datetime
    waiting_since: datetime
    ship_by: datetime | None


class WaitingGroup(BaseModel):
    exception_type: str
    count: int
    orders: list[WaitingOrder]


class WaitingReturn(BaseModel):
    rma: str
    order_id: str
    status: str
    lines: list[dict[str, Any]]
    notes: list[str]
    created_at: datetime


async def _rules_fired(conn: AsyncConnection, order_ids: list[str]) -> dict[str, list[str]]:
    d = t.decisions.c
    rows = await conn.execute(select(d.order_id, d.fired).where(d.order_id.in_(order_ids),
                                                                  d.ruleset == "exceptions").order_by(d.id))
    return {r.order_id: list(r.fired) for r in rows}  # the last one per order wins


async def waiting_orders(engine: AsyncEngine, channels: Sequence[str] = (), per_group: int = 50,
                         only: str | None = None, page: int = 1) -> list[WaitingGroup]:
    """Each exception type with its count and its oldest orders (`only`: one type's page)."""
    scope = [o.status.in_(WAITING)] + ([o.channel.in_(channels)] if channels else [])
    groups: list[WaitingGroup] = []
    async with engine.connect() as conn:
        counts = (await conn.execute(select(o.exception_type, func.count()).where(*scope)
                                     .group_by(o.exception_type).order_by(o.exception_type))).all()
        for kind, count in counts:
            if only is not None and kind != only:
                continue
            rows = (await conn.execute(
                select(o.order_id, o.channel, o.status, o.exception_type, o.exception_reason, o.customer_tier,
                       o.total, o.currency, o.created_at, o.updated_at, o.ship_by)
                .where(*scope, o.exception_type == kind).order_by(o.updated_at, o.order_id)
                .limit(per_group).offset((page - 1) * per_group))).all()
            fired = await _rules_fired(conn, [r.order_id for r in rows]) if rows else {}
            groups.append(WaitingGroup(exception_type=kind, count=int(count), orders=[WaitingOrder(
                order_id=r.order_id, channel=r.channel, status=r.status, exception_type=r.exception_type,
                reason=r.exception_reason, rule=fired.get(r.order_id, []), customer_tier=r.customer_tier,
                total=r.total, currency=r.currency, created_at=utc(r.created_at),
                waiting_since=utc(r.updated_at), ship_by=utc(r.ship_by)) for r in rows]))
    groups.sort(key=lambda g: g.orders[0].waiting_since if g.orders else datetime.max.replace(tzinfo=UTC))
    return groups


async def waiting_returns(engine: AsyncEngine, channels: Sequence[str] = (),
                          limit: int = 200) -> list[WaitingReturn]:
    r = t.returns.c
    query = select(r.rma, r.order_id, r.status, r.request, r.state, r.created_at).where(
        r.status == "awaiting_operator").order_by(r.created_at).limit(limit)
    if channels:
        query = query.join(t.orders, o.order_id == r.order_id).where(o.channel.in_(channels))
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [WaitingReturn(rma=x.rma, order_id=x.order_id, status=x.status,
                          lines=list(x.request.get("lines", [])),
                          notes=list((x.state or {}).get("notes", [])), created_at=utc(x.created_at))
            for x in rows]
