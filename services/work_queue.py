"""The operator's work queue (异常处理): what waits for a person, in the caller's channels.
Acting on an entry goes through `services.orders` and `services.returns`, like the API."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Permission, Principal
from services.access import require
from store import work_queue as store
from store.work_queue import WaitingGroup, WaitingReturn


class WorkQueue(BaseModel):
    groups: list[WaitingGroup]
    returns: list[WaitingReturn]
    waiting: int  # orders waiting, every group
    fingerprint: str  # changes when an order joins or leaves: the console refreshes on it


async def waiting(who: Principal, db: AsyncEngine, exception_type: str | None = None, page: int = 1,
                     per_group: int = 50) -> WorkQueue:
    require(who, Permission.ORDERS_READ)
    groups = await store.waiting_orders(db, who.channels, per_group, exception_type, page)
    returns = (await store.waiting_returns(db, who.channels)
               if who.can(Permission.RETURNS_READ) else [])
    shown = [o.order_id + o.status for g in groups for o in g.orders] + [r.rma for r in returns]
    counts = [f"{g.exception_type}={g.count}" for g in groups]
    return WorkQueue(groups=groups, returns=returns, waiting=sum(g.count for g in groups),
                     fingerprint=hashlib.sha256("|".join((*counts, *shown)).encode()).hexdigest()[:16])
