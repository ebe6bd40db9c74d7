"""What can go wrong with an order, and what the exception rules may answer: one vocabulary
for the activities that raise failures, the workflows that route them and the rule-set
contract that `ordo rules check` holds rule files to."""

from __future__ import annotations

from enum import StrEnum


class ExceptionKind(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_DECLINED = "payment_declined"  # raised by the payment activities
    INVALID_ADDRESS = "invalid_address"
    CARRIER_REJECTED = "carrier_rejected"  # raised by the carrier activities
    INVALID_ORDER = "invalid_order"  # raised by order validation
    SLA_BREACH = "sla_breach"
    SHIPMENT_LOST = "shipment_lost"
    CAPTURE_FAILED = "capture_failed"
    FRAUD_REVIEW = "fraud_review"
    INTAKE_REVIEW = "intake_review"
    PAYMENT_TIMEOUT = "payment_timeout"
    SHIPMENT_LATE = "shipment_late"
    SHIPMENT_DAMAGED = "shipment_damaged"
    SHIPMENT_UNDELIVERABLE = "shipment_undeliverable"
    # Raised by the WMS activities; a transfer workflow handles it itself (puts the stock
    # back), so no exception rule is asked about it.
    WMS_REJECTED = "wms_rejected"


# The kinds an order workflow asks the exception rules about (the `exception_type` fact).
ROUTED_KINDS = tuple(k for k in ExceptionKind if k is not ExceptionKind.WMS_REJECTED)


class ExceptionAction(StrEnum):
    RETRY_LATER = "retry_later"
    HOLD = "hold"
    SHIP_AVAILABLE = "ship_available"
    CANCEL = "cancel"
    ESCALATE = "escalate"
    RESHIP = "reship"
    REFUND = "refund"
    CONTACT_CUSTOMER = "contact_customer"


# An operator must act before the order moves on.
WAITS_FOR_OPERATOR = frozenset({ExceptionAction.HOLD, ExceptionAction.CONTACT_CUSTOMER})


def parcel_failure(shipment_status: str) -> ExceptionKind:
    """The exception kind of a parcel that ended in `shipment_status` (lost, late, ...);
    a parcel no carrier would take is `carrier_rejected`."""
    if shipment_status == "failed":
        return ExceptionKind.CARRIER_REJECTED
    return ExceptionKind(f"shipment_{shipment_status}")


def is_parcel_failure(kind: str) -> bool:
    return kind == ExceptionKind.CARRIER_REJECTED or kind.startswith("shipment_")
