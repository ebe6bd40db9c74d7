"""Returns (逆向物流): what a customer asks to send back, and what Ordo knows to decide on it.

A request names lines (SKU, units, reason, condition); it is checked against what the order
actually delivered less what other returns already claim, so the same unit is never
refunded twice. The workflow decides, books a return label, waits for the warehouse's
graded receipt and then refunds or sends a replacement, line by line.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.errors import FieldError
from domain.messages import BookingEvent, Decision, RefundResult
from domain.model import Address, Order

Reason = Literal[
    "defective", "damaged_in_transit", "wrong_item", "not_as_described", "changed_mind", "size_fit"
]
Condition = Literal["unopened", "opened", "used", "damaged"]
Grade = Literal["restock", "refurbish", "dispose"]
# Qimen inventory types in a returnorder.confirm -> the warehouse's grading
GRADE_OF_INVENTORY_TYPE: dict[str, Grade] = {
    "ZP": "restock",
    "CC": "refurbish",
    "JS": "dispose",
    "XS": "dispose",
}


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    AWAITING_OPERATOR = "awaiting_operator"
    REJECTED = "rejected"
    AWAITING_GOODS = "awaiting_goods"  # label booked, the customer sends it back
    RECEIVED = "received"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    EXPIRED = "expired"  # nothing came back in time: closed without a refund


FINAL_RETURN = frozenset(
    {ReturnStatus.REJECTED, ReturnStatus.REFUNDED, ReturnStatus.EXCHANGED, ReturnStatus.EXPIRED}
)


class ReturnLine(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10_000)
    reason: Reason
    condition: Condition = "unopened"


class ReturnRequest(BaseModel):
    """The body of `POST /v1/orders/{order_id}/returns`."""

    request_id: str = Field(
        "",
        max_length=100,
        description=(
            "your id for this request (a channel's refund id); the same id twice is one return. "
            "Left empty, the request's content is its id"
        ),
    )
    lines: list[ReturnLine] = Field(min_length=1, max_length=200)
    resolution: Literal["refund", "exchange"] = "refund"
    exchange_sku: str = Field(
        "", description="exchange: the SKU to send instead (same price); default the same SKU"
    )
    note: str = Field("", max_length=2000)


class ReturnCase(BaseModel):
    """Everything the ReturnWorkflow needs, read once when the request is accepted."""

    rma: str
    order: Order
    request: ReturnRequest
    delivered_at: datetime
    warehouse_of: dict[str, str]  # SKU -> the warehouse that shipped it, where it goes back
    product_facts: dict[str, dict[str, Any]]  # SKU -> {returnable, hazmat, weight_g, volume_cm3}
    whole_order: bool
    warehouse_province: dict[str, str]


class Inspection(BaseModel):
    sku: str
    quantity: int
    grade: Grade


class ReturnReceipt(BaseModel):
    """The warehouse's returnorder.confirm, as the workflow hears it."""

    out_biz_code: str
    warehouse: str
    lines: list[Inspection]


class ReturnApproval(BaseModel):
    approve: bool
    reason: str = ""
    operator: str = "operator"


class ReturnLineState(BaseModel):
    sku: str
    quantity: int
    reason: str
    decision: str = ""  # approve | reject | review
    why: str = ""
    received: int = 0
    grade: str = ""
    refund_percent: int = 100
    refund_amount: Decimal = Decimal(0)


class ReturnState(BaseModel):
    rma: str
    order_id: str
    status: ReturnStatus = ReturnStatus.REQUESTED
    resolution: str = "refund"
    lines: list[ReturnLineState] = []
    label_carrier: str = ""
    label_waybill: str = ""
    refund_shipping: bool = False
    refund: RefundResult | None = None
    replacement_order_id: str = ""
    decisions: list[Decision] = []
    bookings: list[BookingEvent] = []  # what came of the label's carrier decision
    notes: list[str] = []
    updated_at: datetime | None = None


def check_request(req: ReturnRequest, delivered: dict[str, int], claimed: dict[str, int]) -> list[FieldError]:
    """Each line must name a delivered SKU, in no more units than were delivered and are not
    already claimed by another return; a SKU appears once."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, line in enumerate(req.lines):
        where = f"lines[{i}]"
        if line.sku in seen:
            errors.append(
                FieldError(field=f"{where}.sku", reason=f"{line.sku} is listed twice; give one line per SKU")
            )
            continue
        seen.add(line.sku)
        if line.sku not in delivered:
            errors.append(
                FieldError(
                    field=f"{where}.sku",
                    reason=f"{line.sku} was not delivered on this order (delivered: "
                    f"{', '.join(sorted(delivered)) or 'nothing yet'})",
                )
            )
            continue
        left = delivered[line.sku] - claimed.get(line.sku, 0)
        if line.quantity > left:
            errors.append(
                FieldError(
                    field=f"{where}.quantity",
                    reason=f"{line.quantity} asked, but only {left} of {delivered[line.sku]} "
                    "delivered are not already being returned",
                )
            )
    return errors


def replacement_order(
    order: Order, rma: str, units: dict[str, int], exchange_sku: str, ship_to: Address
) -> Order:
    """The linked order that sends the replacement: same customer and channel, the same
    prices, fully discounted (it was paid for by the original order)."""
    lines = [
        {
            "sku": exchange_sku or sku,
            "quantity": n,
            "unit_price": next(ln.unit_price for ln in order.lines if ln.sku == sku),
        }
        for sku, n in sorted(units.items())
        if n > 0
    ]
    goods = sum((Decimal(str(ln["unit_price"])) * int(str(ln["quantity"])) for ln in lines), Decimal(0))
    return Order.model_validate(
        {
            "channel": order.channel,
            "external_id": f"{order.external_id}-x{rma.rsplit('-', 1)[-1]}",
            "customer": order.customer.model_dump(),
            "lines": lines,
            "shipping_address": ship_to.model_dump(),
            "payment": {"method": order.payment.method, "status": "paid"},
            "currency": order.currency,
            "discount": str(goods),
            "total": "0",
        }
    )


class ReturnOrderRequest(BaseModel):
    """What the warehouse is told to expect (Qimen returnorder.create)."""

    rma: str
    warehouse: str
    exchange: bool
    carrier: str
    waybill_no: str
    sender: Address
    lines: list[ReturnLine]


class ReturnedUnits(BaseModel):
    """Units of one SKU that came back under an RMA, as the warehouse graded them."""

    rma: str
    warehouse: str
    sku: str
    quantity: int
    grade: Grade = "restock"


def return_workflow_id(rma: str) -> str:
    """One ReturnWorkflow per RMA, ever."""
    return f"return-{rma}"
