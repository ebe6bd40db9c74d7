"""The payment gateway: authorise (freeze), capture, void and refund, each idempotent by a
number derived from the order. A refusal is `ExceptionKind.PAYMENT_DECLINED`."""

from __future__ import annotations

from activities.contracts.base import Activity
from config import queues
from domain.messages import PaymentRequest, PaymentResult, RefundRequest, RefundResult

Q = queues.PAYMENTS
AUTHORISE = Activity("payment_authorise", PaymentRequest, PaymentResult, Q)
CAPTURE = Activity("payment_capture", PaymentResult, PaymentResult, Q)
VOID = Activity("payment_void", PaymentResult, PaymentResult, Q)
REFUND = Activity("payment_refund", RefundRequest, RefundResult, Q)
