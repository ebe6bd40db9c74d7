"""One tracking vocabulary for every carrier.

Each carrier reports progress in its own codes (SF opCodes, ZTO actions, Kuaidi100 states);
the wire modules translate them into these states, and a shipment only ever reasons about
these. A problem state ends the parcel's journey and goes to the exception rules.
"""

from __future__ import annotations

from enum import StrEnum


class TrackingState(StrEnum):
    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    LOST = "lost"
    DAMAGED = "damaged"
    UNDELIVERABLE = "undeliverable"  # refused, nobody there, address wrong
    RETURNED = "returned"  # on its way back to the sender
    INFO = "info"  # an event that changes nothing (rerouted, a note)


# Problem words carriers put in the free text of a "problem" event (Kuaidi100 state 2, ZTO
# PROBLEM); the first that matches names the problem.
_PROBLEM_WORDS = (
    (TrackingState.DAMAGED, ("破损", "damaged")),
    (TrackingState.LOST, ("遗失", "丢失", "lost")),
    (TrackingState.UNDELIVERABLE, ("拒收", "无法联系", "地址不详", "refused", "undeliverable")),
)


def problem_from_text(text: str) -> TrackingState:
    lowered = text.lower()
    for state, words in _PROBLEM_WORDS:
        if any(w in lowered for w in words):
            return state
    return TrackingState.INFO  # a problem the carrier is still working on: no action yet
