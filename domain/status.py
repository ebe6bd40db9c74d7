"""Order and shipment states, and which of them count as settled."""

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

