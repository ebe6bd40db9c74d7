"""Order and shipment states, and which of them count as settled."""

from collections.abc import Iterable
from enum import StrEnum


class OrderStatus(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    PRIORITISED = "prioritised"
    BACKORDERED = "backordered"
    RESERVED = "reserved"
    AWAITING_PAYMENT = "awaiting_payment"  # stock held until paid or the reservation expires
    PAYMENT_AUTHORISED = "payment_authorised"
    FULFILLING = "fulfilling"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    AWAITING_OPERATOR = "awaiting_operator"
    CANCELLED = "cancelled"


SETTLED = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.AWAITING_OPERATOR})
SHIPPED_OR_LATER = frozenset(
    {OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED,
     OrderStatus.COMPLETED}
)


class ShipmentStatus(StrEnum):
    PENDING = "pending"
    AT_WAREHOUSE = "at_warehouse"
    WAYBILL_CREATED = "waybill_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    LATE = "late"  # no tracking progress past the promised time: presumed lost
    LOST = "lost"  # the carrier says so
    DAMAGED = "damaged"
    UNDELIVERABLE = "undeliverable"
    CANCELLED = "cancelled"
    FAILED = "failed"



# While its parcels travel, an order shows the status of the parcel furthest behind.
ORDER_STATUS_OF = ((ShipmentStatus.WAYBILL_CREATED, OrderStatus.SHIPPED),
                   (ShipmentStatus.IN_TRANSIT, OrderStatus.IN_TRANSIT),
                   (ShipmentStatus.OUT_FOR_DELIVERY, OrderStatus.OUT_FOR_DELIVERY))
# The order statuses its parcels' travel may change (on hold or in an exception, it waits).
ORDER_TRAVELLING = frozenset({OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT,
                              OrderStatus.OUT_FOR_DELIVERY})


def order_status_while_travelling(parcels: Iterable[ShipmentStatus | str]) -> OrderStatus | None:
    """The status the parcels give their order, or None when none of them is on its way
    (the order keeps what it has). Used by the order's workflow and, where a parcel writes
    the order's travel itself, by the store, so both read a journey the same way."""
    present = {ShipmentStatus(p) for p in parcels}
    for parcel_status, order_status in ORDER_STATUS_OF:
        if parcel_status in present:
            return order_status
    return None


def shown_status(live: OrderStatus | None, stored: str | None) -> str:
    """The status to show a person: the workflow's, except while the parcels travel, when the
    stored one is ahead (a parcel moves its order along in the store and tells the workflow
    only of its waybill). Neither known: `received`."""
    if live is None:
        return stored or OrderStatus.RECEIVED.value
    if stored in ORDER_TRAVELLING and live in ORDER_TRAVELLING:
        return stored
    return live.value
