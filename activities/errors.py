"""Business failures the workflow routes through the exception rules (never retried as-is)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

INVALID_ORDER = "invalid_order"
PAYMENT_DECLINED = "payment_declined"
CARRIER_REJECTED = "carrier_rejected"
INVALID_ADDRESS = "invalid_address"
WMS_REJECTED = "wms_rejected"


def business_failure(kind: str, message: str, *details: object) -> ApplicationError:
    return ApplicationError(message, *details, type=kind, non_retryable=True)
