"""The one model each activity, child workflow, signal and update takes or returns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, SerializeAsAny, model_validator

from domain.errors import FieldError
from domain.model import Address, Order, Temperature
from domain.rulesets import RuleOutcome, SplitOutcome, outcome_model
from domain.status import OrderStatus, ShipmentStatus
from domain.tracking import TrackingState

OutcomeT = TypeVar("OutcomeT", bound=RuleOutcome)


class Decision(BaseModel):
    """What a rule set decided, and why: kept in history and in the decision log."""

    ruleset: str
    version: str
    fired: list[str]
    facts: dict[str, Any]
    outcome: SerializeAsAny[RuleOutcome]
    step: str = ""
    decided_at: datetime | None = None  # the instant effective dates were judged at
    evaluator: str = "durable_rules"  # or "reference" for a fact beyond the engine's limits
    key: str = ""  # its key in the decision log, which what came of it is linked by

    @model_validator(mode="before")
    @classmethod
    def _typed_outcome(cls, data: Any) -> Any:
        """The outcome becomes its rule set's model the moment a decision is made (or read
        back from history), so a missing or mistyped key fails here, once."""
        if isinstance(data, dict) and isinstance(data.get("outcome"), dict):
            model = outcome_model(str(data.get("ruleset")))
            data = {**data, "outcome": model.model_validate(data["outcome"])}
        return data

    def outcome_as(self, model: type[OutcomeT]) -> OutcomeT:
        """The outcome as the model the caller expects; a decision of another rule set is a bug."""
        if not isinstance(self.outcome, model):
            raise TypeError(f"a {self.ruleset} decision has a {type(self.outcome).__name__}, "
                            f"not a {model.__name__}")
        return self.outcome


class LineFacts(BaseModel):
    line_no: int
    sku: str
    quantity: int
    weight_g: int
    temperature: Temperature
    hazmat: bool
    oversize: bool
    volume_cm3: int = 0
    returnable: bool = True


class ValidatedOrder(BaseModel):
    order_id: str
    lines: list[LineFacts]
    facts: dict[str, Any]


class Allocation(BaseModel):
    line_no: int
    sku: str
    warehouse: str
    quantity: int


class Shortage(BaseModel):
    line_no: int
    sku: str
    missing: int


class ReserveRequest(BaseModel):
    order_id: str
    attempt_key: str
    lines: list[LineFacts]
    destination_province: str
    allow_partial: bool = False
    policy: SplitOutcome  # the split decision's outcome: sourcing and parcel keys
    channel: str = ""  # whose allocation buffer applies


class ReserveResult(BaseModel):
    """`reserved` is false when shortages stopped the reservation: `allocations` is then
    what could have been reserved, which tells the exception rules if a partial ship is
    possible."""

    allocations: list[Allocation]
    shortages: list[Shortage]
    reserved: bool = True


class ReleaseRequest(BaseModel):
    order_id: str
    reason: str


class ParcelLine(BaseModel):
    sku: str
    quantity: int


class Shipment(BaseModel):
    shipment_id: str
    order_id: str
    warehouse: str
    lines: list[ParcelLine]
    weight_g: int
    service: str  # standard | cold_chain | hazmat | freight
    temperature: Temperature = Temperature.AMBIENT
    volume_cm3: int = 0


class ShipmentInput(BaseModel):
    shipment: Shipment
    address: Address
    lane: str
    parent_workflow_id: str
    source_platform: str
    customer_tier: str = "regular"
    total_minor: int = 0
    external_id: str = ""  # the channel's own order id, for writing the waybill back
    split: bool = False  # one of several parcels
    channel_lines: dict[str, str] = {}  # SKU -> the channel's line id, for line-by-line write-back


class Quote(BaseModel):
    carrier: str
    service: str  # what the parcel needs: standard | cold_chain | hazmat | freight
    fee: Decimal
    transit_days: int
    eligible: bool
    reason: str = ""
    level: str = "standard"  # the carrier product quoted: standard | express | cold_chain | freight
    protocol: str = "sf"
    chargeable_kg: Decimal = Decimal(0)
    promised_days: int = 0  # transit days plus one when booked after the carrier's cut-off


class QuoteRequest(BaseModel):
    shipment: Shipment
    destination_province: str
    booked_at: datetime | None = None


class WaybillRequest(BaseModel):
    shipment: Shipment
    carrier: str
    address: Address
    protocol: str = "sf"
    level: str = "standard"
    reverse: bool = False  # a return label: the customer sends to the warehouse
    origin_province: str = ""  # the warehouse's province

    @property
    def booking_id(self) -> str:
        """The carrier's idempotency key: a retry after a lost answer returns the first waybill."""
        return f"R-{self.shipment.shipment_id}" if self.reverse else self.shipment.shipment_id


class Waybill(BaseModel):
    carrier: str
    waybill_no: str


class CancelWaybillRequest(BaseModel):
    carrier: str
    shipment_id: str
    protocol: str = "sf"


class DeliveryOrderRequest(BaseModel):
    shipment: Shipment
    address: Address
    source_platform: str


class DeliveryOrderRef(BaseModel):
    delivery_order_code: str
    wms_order_id: str


class PaymentRequest(BaseModel):
    order_id: str
    amount: Decimal
    currency: str
    payer_id: str


class RefundRequest(BaseModel):
    order_id: str  # the trade (out_trade_no) the money goes back from
    refund_no: str  # out_request_no: one per refund, so a retry never pays twice
    amount: Decimal
    reason: str = ""


class RefundResult(BaseModel):
    refund_no: str
    amount: Decimal
    refunded_total: Decimal  # everything refunded on the trade so far
    reason: str = ""


class PaymentResult(BaseModel):
    order_id: str
    reference: str
    amount: Decimal
    state: str


class TrackingEvent(BaseModel):
    waybill_no: str
    op_code: str  # the carrier's own code, kept for the record
    state: TrackingState = TrackingState.INFO
    remark: str = ""
    at: datetime | None = None


class ShipmentUpdate(BaseModel):
    shipment_id: str
    status: ShipmentStatus
    carrier: str = ""
    waybill_no: str = ""
    recorded: bool = False  # the parcel has written the order's status for this step itself


class ParcelStep(BaseModel):
    """One status change of a parcel, at the parcel workflow's time: the order rebuilds its
    travel timeline from these when the parcel ends (`versions.PARCEL_JOURNEY`)."""

    status: ShipmentStatus
    at: datetime


class ShipmentResult(BaseModel):
    shipment_id: str
    status: ShipmentStatus
    carrier: str = ""
    waybill_no: str = ""
    decisions: list[Decision] = []
    bookings: list[BookingEvent] = []  # what came of the carrier decisions
    reason: str = ""
    promised_by: datetime | None = None
    channel_writeback: str = ""
    steps: list[ParcelStep] = []  # its status changes, oldest first (empty before the patch)


class StatusRecord(BaseModel):
    order_id: str
    status: OrderStatus
    priority: str = ""
    exception_type: str = ""
    exception_reason: str = ""
    at: datetime | None = None  # the workflow's time of the change: the timeline and the dashboard
    ship_by: datetime | None = None


class StatusBatch(BaseModel):
    """Status changes made back to back, written in one transaction, in order (issue 16)."""

    records: list[StatusRecord]


class ShipmentRecord(BaseModel):
    order_id: str
    shipment: Shipment
    status: ShipmentStatus
    carrier: str = ""
    waybill_no: str = ""
    at: datetime | None = None  # the workflow's time of the change (a return's window counts from delivery)
    fee: Decimal | None = None  # what the booked carrier charges
    promised_by: datetime | None = None  # when the carrier promised delivery
    # The parcel moves its order along (shipped, in transit, out for delivery) in the same
    # write, instead of telling the order's workflow (`versions.PARCEL_JOURNEY`).
    moves_order: bool = False


class PersistOrder(BaseModel):
    order: Order


class AddressChange(BaseModel):
    address: Address
    reason: str = ""


class OperatorNote(BaseModel):
    reason: str = ""
    operator: str = "operator"
    # on release of an order held for a failed parcel (contact_customer): send the parcel
    # again (the default) or refund it, when the customer cannot be reached or wants the money
    then: Literal["resend", "refund"] = "resend"


class Transition(BaseModel):
    status: OrderStatus
    at: datetime
    note: str = ""


class ActionResult(BaseModel):
    accepted: bool
    status: OrderStatus
    message: str


class OrderState(BaseModel):
    order_id: str
    status: OrderStatus
    priority: str = ""
    ship_by: datetime | None = None
    held: bool = False
    exception_type: str = ""
    exception_reason: str = ""
    shipments: list[ShipmentResult] = []
    allocations: list[Allocation] = []
    decisions: list[Decision] = []
    bookings: list[BookingEvent] = []  # what came of the carrier decisions
    transitions: list[Transition] = []
    errors: list[FieldError] = []
    escalated: bool = False
    backorder_id: str = ""  # the linked order for what could not ship with this one
    refunds: list[RefundResult] = []


class ConsumeRequest(BaseModel):
    order_id: str
    warehouse: str
    skus: list[str]


class BookingEvent(BaseModel):
    """What happened after a carrier decision: the carrier that booked (with the fee and the
    promise it booked at) or one that refused and why. Its own entry, linked to the decision
    by `decision_key`, so the decision stays as the rules made it."""

    decision_key: str
    order_id: str
    seq: int  # the order in which carriers were tried
    kind: Literal["booked", "refused"]
    carrier: str
    level: str = ""
    fee: Decimal | None = None
    promised_days: int = 0
    reason: str = ""


class DecisionRequest(BaseModel):
    """A rule evaluation for an order; `key` makes the decision-log write idempotent."""

    order_id: str
    key: str
    ruleset: str
    facts: dict[str, Any]
    step: str = ""


class Quotes(BaseModel):
    quotes: list[Quote]
    origin_province: str


class AddressRecord(BaseModel):
    order_id: str
    address: Address


class Count(BaseModel):
    value: int

class ShipmentNotice(BaseModel):
    """A parcel that left, told to the channel it was sold on."""

    channel: str
    external_id: str
    shipment_id: str
    carrier: str
    waybill_no: str
    split: bool = False  # one of several parcels of the order
    lines: dict[str, int] = {}  # the channel's line id -> units in this parcel; empty: not known
