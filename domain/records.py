"""What the store hands back when something is read: typed rows, not dictionaries, so a
reader (a service, the API, the `ordo` command) knows every field and its type, and turning
one into JSON is `model_dump(mode="json")` everywhere."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.messages import BookingEvent


class Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class ShipmentRow(Record):
    shipment_id: str
    order_id: str
    warehouse: str
    service: str
    weight_g: int
    lines: list[dict[str, Any]]
    status: str
    carrier: str
    waybill_no: str
    updated_at: datetime


class DecisionRow(Record):
    """A decision as the decision log holds it (the outcome as recorded, a plain mapping:
    a decision logged by an older rule set version may lack a key added since)."""

    key: str
    order_id: str
    step: str
    ruleset: str
    version: str
    fired: list[str]
    facts: dict[str, Any]
    outcome: dict[str, Any]
    decided_at: datetime | None
    evaluator: str | None
    created_at: datetime


class PaymentNotice(Record):
    trade_no: str
    trade_status: str
    total_amount: Decimal
    created_at: datetime


class OrderRecord(Record):
    """The order as stored: its canonical payload, the status the workflow last recorded,
    its parcels, its decisions and what came of them, and the gateway's notifications."""

    order_id: str
    workflow_id: str
    channel: str
    external_id: str
    customer_id: str
    customer_tier: str
    status: str
    priority: str
    exception_type: str
    total: Decimal
    currency: str
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    shipments: list[ShipmentRow] = []
    decisions: list[DecisionRow] = []
    followups: list[BookingEvent] = []
    payment_notifications: list[PaymentNotice] = []


class ReturnRecord(Record):
    rma: str
    order_id: str
    request_id: str
    status: str
    request: dict[str, Any]
    state: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class TransferRecord(Record):
    transfer_id: str
    sku: str
    from_warehouse: str
    to_warehouse: str
    quantity: int
    status: str
    reason: str
    created_at: datetime
    updated_at: datetime


class InventoryAlertRecord(Record):
    id: int
    kind: str
    sku: str
    warehouse: str
    detail: str
    created_at: datetime


class StockCounts(Record):
    """One SKU at one warehouse; available = on hand - reserved - safety stock."""

    warehouse: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int
    in_transit: int
    defective: int


class WarehouseStock(StockCounts):
    by_channel: dict[str, int]


class StockMovementRecord(Record):
    id: int
    sku: str
    warehouse: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    in_transit_delta: int
    defective_delta: int
    reference: str
    created_at: datetime


class RuleVersionRecord(Record):
    ruleset: str
    seq: int
    version: str
    previous_version: str | None
    loaded_at: datetime
    loaded_by: str
    source: str
    summary: str
    content: dict[str, Any]


class InboxRecord(Record):
    id: int
    channel: str
    kind: str
    dedupe_key: str
    content_hash: str
    order_id: str
    body: str
    canonical: dict[str, Any]
    state: str
    attempts: int
    outcome: str | None
    received_at: datetime
    dispatched_at: datetime | None


class DeadLetterRecord(Record):
    id: int
    channel: str
    body: str
    errors: list[dict[str, Any]]
    topic: str
    retried_at: datetime | None
    resolved_inbox_id: int | None
    created_at: datetime


class StockLevel(StockCounts):
    """A row of the console's inventory page. `low`: what is free to promise is at or below
    the low-stock line (`ORDO_LOW_STOCK_UNITS`)."""

    sku: str
    name: str
    low: bool


class TransitionRow(Record):
    status: str
    exception_type: str
    at: datetime
