"""Activities on the OMS database: intake validation, status, shipments, decisions, stock.

They run as local activities in the orders worker: each is one short transaction, and
every write is idempotent by a key from the workflow, so a retry never writes twice.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.contracts import store as contract
from activities.errors import business_failure
from activities.rule_log import log_changes
from config.keys import audit_key
from config.settings import Settings, get_settings
from domain.errors import FieldError
from domain.exceptions import ExceptionKind
from domain.facts import line_facts, order_facts
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
from domain.rating import rate_shop
from domain.sourcing import SourcingPolicy, plan_sourcing
from rules.engine import RuleEngine
from store import catalog, decisions, inventory, orders


class StoreActivities:
    def __init__(self, db: AsyncEngine, rules: RuleEngine, settings: Settings | None = None) -> None:
        self.db = db
        self.rules = rules
        self.settings = settings or get_settings()
        # read once: the rule-change log is written from the decision activity's hot path
        self.audit_key = audit_key(self.settings.var_dir, self.settings.audit_key)

    @activity.defn(name=contract.VALIDATE_ORDER.name)
    async def validate_order(self, req: PersistOrder) -> ValidatedOrder:
        order = req.order
        async with self.db.connect() as conn:
            products = await catalog.products_by_sku(conn, [ln.sku for ln in order.lines])
        unknown = [
            FieldError(field=f"lines[{i}].sku", reason=f"unknown SKU '{ln.sku}': not in the catalogue")
            for i, ln in enumerate(order.lines) if ln.sku not in products
        ]
        await orders.save_order(self.db, order)
        if unknown:
            raise business_failure(
                ExceptionKind.INVALID_ORDER, "; ".join(f"{e.field}: {e.reason}" for e in unknown),
                [e.model_dump() for e in unknown],
            )
        lines = line_facts(order, products)
        return ValidatedOrder(order_id=order.order_id, lines=lines, facts=order_facts(order, lines))

    @activity.defn(name=contract.DECIDE.name)
    async def decide(self, req: DecisionRequest) -> Decision:
        started = time.perf_counter()
        made = await asyncio.to_thread(self.rules.decide, req.ruleset, req.facts, req.step)
        if activity.in_activity():
            meter = activity.metric_meter().with_additional_attributes({"ruleset": req.ruleset})
            meter.create_histogram_float("ordo_decision_seconds", "time to evaluate one rule decision, "
                                         "per rule set", "s").record(time.perf_counter() - started)
        decision = made.model_copy(update={"key": req.key})
        await self.log_rule_changes()
        await decisions.record_decision(self.db, req.order_id, req.key, decision)
        return decision

    async def log_rule_changes(self) -> int:
        """Versions that went live since the last call go to the rule-change log."""
        changes = self.rules.take_changes()
        try:
            return await log_changes(self.db, changes, self.audit_key)
        except Exception:
            self.rules.requeue(changes)  # written by the next decision instead
            raise

    @activity.defn(name=contract.RESERVE_STOCK.name)
    async def reserve_stock(self, req: ReserveRequest) -> ReserveResult:
        policy = SourcingPolicy.from_outcome(req.policy)
        async with self.db.connect() as conn:
            carriers = await catalog.all_carriers(conn)
        return await inventory.reserve(
            self.db, req.order_id, req.attempt_key, req.lines,
            lambda lines, avail, whs: plan_sourcing(lines, avail, whs, req.destination_province,
                                                    policy, carriers),
            allow_partial=req.allow_partial,
            buffer=self.settings.channel_buffers.get(req.channel, 0),
        )

    @activity.defn(name=contract.RELEASE_STOCK.name)
    async def release_stock(self, req: ReleaseRequest) -> Count:
        return Count(value=await inventory.release(self.db, req.order_id))

    @activity.defn(name=contract.CONSUME_STOCK.name)
    async def consume_stock(self, req: ConsumeRequest) -> Count:
        keys = {f"{sku}@{req.warehouse}" for sku in req.skus}
        return Count(value=await inventory.consume(self.db, req.order_id, keys))

    @activity.defn(name=contract.RECORD_STATUS.name)
    async def record_status(self, rec: StatusRecord) -> None:
        await orders.set_status(self.db, rec)

    @activity.defn(name=contract.RECORD_STATUSES.name)
    async def record_statuses(self, batch: StatusBatch) -> None:
        await orders.set_statuses(self.db, batch.records)

    @activity.defn(name=contract.RECORD_SHIPMENT.name)
    async def record_shipment(self, rec: ShipmentRecord) -> None:
        await orders.save_shipment(self.db, rec)

    @activity.defn(name=contract.RECORD_ADDRESS.name)
    async def record_address(self, rec: AddressRecord) -> None:
        await orders.set_address(self.db, rec.order_id, rec.address.model_dump())

    @activity.defn(name=contract.RECORD_BOOKING.name)
    async def record_booking(self, event: BookingEvent) -> None:
        await decisions.record_booking_event(self.db, event)

    @activity.defn(name=contract.QUOTE_CARRIERS.name)
    async def quote_carriers(self, req: QuoteRequest) -> Quotes:
        async with self.db.connect() as conn:
            carriers = await catalog.all_carriers(conn)
            origin = next(w for w in await catalog.all_warehouses(conn)
                          if w.code == req.shipment.warehouse)
        return Quotes(
            quotes=rate_shop(carriers, req.shipment, origin.province, req.destination_province,
                             req.booked_at),
            origin_province=origin.province,
        )
