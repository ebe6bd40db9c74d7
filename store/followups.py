"""A decision follow-up row as the `BookingEvent` it was recorded from."""

from __future__ import annotations

from typing import Any

from domain.messages import BookingEvent


def booking_event(row: Any) -> BookingEvent:
    return BookingEvent.model_validate({**row.detail, "decision_key": row.decision_key, "seq": row.seq,
                                        "order_id": row.order_id, "kind": row.kind})
