"""The OMS database schema (SQLAlchemy Core); Alembic migrations are generated from it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.sql.elements import TextClause

metadata = MetaData()


def sa_true() -> TextClause:
    return text("true")


def _now() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


products = Table(
    "products", metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit_price", Numeric(14, 2), nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("temperature", String(16), nullable=False),
    Column("hazmat", Boolean, nullable=False),
    Column("oversize", Boolean, nullable=False),
    Column("volume_cm3", Integer, nullable=False, server_default="0"),
    Column("returnable", Boolean, nullable=False, server_default=sa_true()),
)

warehouses = Table(
    "warehouses", metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("province", String(32), nullable=False),
    Column("city", String(64), nullable=False),
    Column("cold_chain", Boolean, nullable=False),
)

carriers = Table(
    "carriers", metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("spec", JSON, nullable=False),
)

stock = Table(
    "stock", metadata,
    Column("sku", String(64), primary_key=True),
    Column("warehouse", String(32), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("safety_stock", Integer, nullable=False, server_default="0"),  # never promised to orders
    Column("in_transit", Integer, nullable=False, server_default="0"),  # transfers on the way here
    # returned units graded CC (defective): at the warehouse, never sold until refurbished
    Column("defective", Integer, nullable=False, server_default="0"),
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="ck_stock_reserved_within_on_hand"),
)

# WMS stock-change reports already applied, by the WMS's idempotency key (outBizCode).
wms_events = Table(
    "wms_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("out_biz_code", String(100), nullable=False, unique=True),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(32), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("order_type", String(16), nullable=False),
    _now(),
)

# Every change to `stock` is also a row here, in the same transaction: the balance of a SKU
# at a warehouse is the sum of its movements, which `ordo inventory audit` checks.
stock_movements = Table(
    "stock_movements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # see store.ledger.KINDS
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("in_transit_delta", Integer, nullable=False, server_default="0"),
    Column("defective_delta", Integer, nullable=False, server_default="0"),
    Column("reference", String(240), nullable=False),  # order id, reservation key, file
    _now(),
    Index("ix_stock_movements_sku_warehouse", "sku", "warehouse"),
)

# Stock transfers between warehouses (调拨), one row per TransferWorkflow.
transfers = Table(
    "transfers", metadata,
    Column("transfer_id", String(100), primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("from_warehouse", String(32), nullable=False),
    Column("to_warehouse", String(32), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # in_transit | received | refused
    Column("reason", String(500), nullable=False, server_default=""),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Inventory alerts for people: drift beyond the threshold, transfers overdue.
inventory_alerts = Table(
    "inventory_alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(32), nullable=False),
    Column("detail", String(500), nullable=False),
    _now(),
)

reservations = Table(
    "reservations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(240), nullable=False, unique=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(32), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # held | released | consumed
    _now(),
)

orders = Table(
    "orders", metadata,
    Column("order_id", String(200), primary_key=True),
    Column("workflow_id", String(220), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("customer_tier", String(16), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("priority", String(16), nullable=False, server_default=""),
    Column("exception_type", String(32), nullable=False, server_default=""),
    Column("total", Numeric(14, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payload", JSON, nullable=False),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # read model for the console and the dashboard, written as the lifecycle moves (issue 15)
    Column("units", Integer, nullable=False, server_default="0"),
    # units in parcels handed to a carrier and not cancelled: kept by every parcel write
    Column("units_shipped", Integer, nullable=False, server_default="0"),
    Column("exception_reason", String(500), nullable=False, server_default=""),
    Column("ship_by", DateTime(timezone=True), nullable=True),
    Column("shipped_at", DateTime(timezone=True), nullable=True),  # the first parcel handed over
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),  # completed or cancelled
    UniqueConstraint("channel", "external_id", name="uq_orders_channel_external_id"),
    Index("ix_orders_created_at", "created_at"),
    Index("ix_orders_channel_created_at", "channel", "created_at"),
    Index("ix_orders_customer_id", "customer_id"),
    Index("ix_orders_waiting", "status", "exception_type", "updated_at"),  # the work queue
)

# Every status an order passed through, with the workflow's time: the console's timeline
# and the dashboard's exception resolution times.
order_transitions = Table(
    "order_transitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("exception_type", String(32), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    UniqueConstraint("order_id", "at", "status", name="uq_order_transitions_once"),  # a retried write
    Index("ix_order_transitions_status_at", "status", "at"),  # the exceptions figure
)

# Daily roll-ups kept up to date as orders arrive, so top sellers, slow movers and customer
# value never scan the order lines.
sku_sales_daily = Table(
    "sku_sales_daily", metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("sku", String(64), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("units", Integer, nullable=False),
    Column("revenue", Numeric(16, 2), nullable=False),
    Index("ix_sku_sales_daily_sku_day", "sku", "day"),
)

customer_totals = Table(
    "customer_totals", metadata,
    Column("customer_id", String(200), primary_key=True),
    Column("tier", String(16), nullable=False),
    Column("orders", Integer, nullable=False),
    Column("revenue", Numeric(16, 2), nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
)

order_lines = Table(
    "order_lines", metadata,
    Column("order_id", String(200), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Numeric(14, 2), nullable=False),
)

shipments = Table(
    "shipments", metadata,
    Column("shipment_id", String(220), primary_key=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("warehouse", String(32), nullable=False),
    Column("service", String(16), nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("status", String(32), nullable=False),
    Column("carrier", String(32), nullable=False, server_default=""),
    Column("waybill_no", String(64), nullable=False, server_default="", index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("units", Integer, nullable=False, server_default="0"),
    Column("fee", Numeric(14, 2), nullable=True),  # what the carrier charged, once booked
    Column("promised_by", DateTime(timezone=True), nullable=True),  # the carrier's delivery promise
    Column("shipped_at", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ix_shipments_delivered_at", "delivered_at"),
)

# One row per return request (RMA); `state` is the ReturnWorkflow's latest ReturnState.
returns = Table(
    "returns", metadata,
    Column("rma", String(240), primary_key=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("request_id", String(100), nullable=False),
    Column("status", String(32), nullable=False),
    Column("request", JSON, nullable=False),
    Column("state", JSON, nullable=True),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("order_id", "request_id", name="uq_returns_request"),
)

decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("step", String(64), nullable=False),
    Column("ruleset", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("fired", JSON, nullable=False),
    Column("facts", JSON, nullable=False),
    Column("outcome", JSON, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True, index=True),
    Column("evaluator", String(16), nullable=True),
    _now(),
)

# What happened after a decision (the carrier that booked, each that refused), linked to it
# by the decision's key; the decision row itself is never changed.
decision_followups = Table(
    "decision_followups", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_key", String(300), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("order_id", String(200), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("detail", JSON, nullable=False),
    _now(),
    UniqueConstraint("decision_key", "seq", name="uq_decision_followups_seq"),
)

rule_versions = Table(
    "rule_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ruleset", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("version", String(32), nullable=False),
    Column("previous_version", String(32), nullable=True),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("loaded_by", String(200), nullable=False),
    Column("source", String(500), nullable=False),
    Column("summary", Text, nullable=False),
    Column("content", JSON, nullable=False),
    UniqueConstraint("ruleset", "seq", name="uq_rule_versions_ruleset_seq"),
)

payment_notifications = Table(
    "payment_notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notify_id", String(64), nullable=False, unique=True),
    Column("out_trade_no", String(200), nullable=False, index=True),
    Column("trade_no", String(64), nullable=False),
    Column("trade_status", String(32), nullable=False),
    Column("total_amount", Numeric(14, 2), nullable=False),
    Column("body", JSON, nullable=False),
    _now(),
)

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("topic", String(64), nullable=False, server_default=""),  # e.g. orders/create
    Column("retried_at", DateTime(timezone=True), nullable=True),
    Column("resolved_inbox_id", Integer, nullable=True),  # set when a retry got it in
    _now(),
)

inbox = Table(
    "inbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # order | cancel
    Column("dedupe_key", String(300), nullable=False, unique=True),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("body", Text, nullable=False),  # the raw payload as received
    Column("canonical", JSON, nullable=False),  # the order (or the change) it became
    Column("state", String(16), nullable=False, index=True),  # pending | done | rejected
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("outcome", Text, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=True),
    # a dispatcher's lease on a pending row (issue 16): another takes it only once it expires
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
)

# --- who may get in (issue 14) -------------------------------------------------------------

users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(16), nullable=False),
    Column("channels", JSON, nullable=False),  # [] = every channel
    Column("warehouses", JSON, nullable=False),  # [] = every warehouse
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("last_failed_at", DateTime(timezone=True), nullable=True),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    _now(),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(16), primary_key=True),  # the public part of the key, shown in lists
    Column("name", String(100), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),  # sha256 of the whole key
    Column("role", String(16), nullable=False),
    Column("channels", JSON, nullable=False),
    Column("warehouses", JSON, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    _now(),
)

sessions = Table(
    "sessions", metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("refresh_hash", String(64), nullable=False, unique=True),  # sha256 of the refresh token
    Column("csrf_token", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    _now(),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(120), nullable=False, index=True),
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(300), nullable=False, server_default=""),
    Column("detail", JSON, nullable=False),  # before/after, reason, purpose: masked
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head", metadata,
    # one row: the last seq and hash; appending updates it first, so concurrent appends queue
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

personal_data = Table(
    "personal_data", metadata,
    # the vault: a customer's name, phone, street and postal code, sealed (AES-256-GCM);
    # orders everywhere else carry `pii:<ref>` in their place (domain/pii.py)
    Column("ref", String(40), primary_key=True),
    Column("customer_id", String(200), nullable=False, index=True),
    Column("order_id", String(200), nullable=False, index=True),
    Column("sealed", Text, nullable=False),  # "" once erased
    Column("erased_at", DateTime(timezone=True), nullable=True),
    _now(),
)
