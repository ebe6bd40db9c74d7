"""The OMS database and the rule engine, as the order, shipment and return workflows use
them: local activities in the orders worker."""

from __future__ import annotations

from activities.contracts.base import Activity
from config import queues
from domain.messages import (
    AddressRecord,
    BookingEvent,
    ConsumeRequest,
    Count,
    Decision,
    DecisionRequest,
    PersistOrder,
    QuoteRequest,
    Quotes,
    ReleaseRequest,
    ReserveRequest,
    ReserveResult,
    ShipmentRecord,
    StatusBatch,
    StatusRecord,
    ValidatedOrder,
)

Q = queues.ORDERS
VALIDATE_ORDER = Activity("validate_order", PersistOrder, ValidatedOrder, Q, local=True)
DECIDE = Activity("decide", DecisionRequest, Decision, Q, local=True)
RESERVE_STOCK = Activity("reserve_stock", ReserveRequest, ReserveResult, Q, local=True)
RELEASE_STOCK = Activity("release_stock", ReleaseRequest, Count, Q, local=True)
CONSUME_STOCK = Activity("consume_stock", ConsumeRequest, Count, Q, local=True)
RECORD_STATUS = Activity("record_status", StatusRecord, type(None), Q, local=True)
RECORD_STATUSES = Activity("record_statuses", StatusBatch, type(None), Q, local=True)
RECORD_SHIPMENT = Activity("record_shipment", ShipmentRecord, type(None), Q, local=True)
RECORD_ADDRESS = Activity("record_address", AddressRecord, type(None), Q, local=True)
RECORD_BOOKING = Activity("record_booking", BookingEvent, type(None), Q, local=True)
QUOTE_CARRIERS = Activity("quote_carriers", QuoteRequest, Quotes, Q, local=True)
