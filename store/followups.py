"""What came of an order's decisions, read back as the `BookingEvent`s they were recorded
from; shared by the decision log's reader and the order's stored record."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.messages import BookingEvent
from store import tables as t


async def for_order(conn: AsyncConnection, order_id: str) -> list[BookingEvent]:
    rows = await conn.execute(select(t.decision_followups)
                              .where(t.decision_followups.c.order_id == order_id)
                              .order_by(t.decision_followups.c.decision_key, t.decision_followups.c.seq))
    return [BookingEvent.model_validate({**r.detail, "decision_key": r.decision_key, "seq": r.seq,
                                         "order_id": r.order_id, "kind": r.kind}) for r in rows]
