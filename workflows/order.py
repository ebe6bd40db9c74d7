"""OrderWorkflow: one order from intake to settlement, with operators able to step in.

validate -> prioritise -> reserve -> split -> authorise payment -> one ShipmentWorkflow
per parcel -> capture -> completed. Any failed step goes to the exception rules, which
answer retry later, hold for an operator, ship what is available, or cancel (with
compensation: void the payment, release stock, cancel WMS orders and waybills).

Decisions come from rule files through a local activity, so each one is in the history
with the ruleset version that made it. The workflow itself does no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import payments, store
    from config import queues
    from config import search_attributes as sa
    from domain.backorders import backorder_for
    from domain.errors import FieldError
    from domain.exceptions import (
        WAITS_FOR_OPERATOR,
        ExceptionAction,
        ExceptionKind,
        is_parcel_failure,
        parcel_failure,
    )
    from domain.messages import (
        ActionResult,
        AddressChange,
        AddressRecord,
        Allocation,
        Decision,
        DecisionRequest,
        OperatorNote,
        OrderState,
        PaymentRequest,
        PaymentResult,
        PersistOrder,
        RefundRequest,
        ReleaseRequest,
        ReserveRequest,
        Shipment,
        ShipmentInput,
        ShipmentResult,
        ShipmentUpdate,
        StatusBatch,
        StatusRecord,
        Transition,
        ValidatedOrder,
    )
    from domain.model import Order
    from domain.money import quantize, to_minor
    from domain.refunds import parcel_value
    from domain.rulesets import ExceptionOutcome, PriorityOutcome, SplitOutcome
    from domain.splitting import split_into_shipments
    from domain.status import (
        ORDER_TRAVELLING,
        SHIPPED_OR_LATER,
        OrderStatus,
        ShipmentStatus,
        order_status_while_travelling,
    )
    from workflows.calls import run
    from workflows.failures import business_failure
    from workflows.shipment import ShipmentWorkflow
    from workflows.versions import BATCHED_STATUS_WRITES

CLOSED = frozenset({OrderStatus.CANCELLED, OrderStatus.COMPLETED})
IN_FLIGHT = frozenset({ShipmentStatus.WAYBILL_CREATED, ShipmentStatus.IN_TRANSIT,
                       ShipmentStatus.OUT_FOR_DELIVERY})
# A parcel in one of these has not left with a carrier (or never will).
NOT_SHIPPED = frozenset({ShipmentStatus.PENDING, ShipmentStatus.AT_WAREHOUSE, ShipmentStatus.CANCELLED,
                         ShipmentStatus.FAILED})


def _status_attributes(status: OrderStatus, exception_type: str) -> list[SearchAttributeUpdate[Any]]:
    """The search attributes every status change sets, for the Temporal UI's lists."""
    return [sa.ORDER_STATUS.value_set(status.value), sa.EXCEPTION_TYPE.value_set(exception_type or "none")]


class _Cancel(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: Order) -> None:
        """Runs before any handler, so an Update that arrives first sees the order."""
        self.order: Order | None = order
        self.state = OrderState(order_id=order.order_id, status=OrderStatus.RECEIVED)
        self.cancel_reason = ""
        self.cancel_requested = False
        self.restocked = False
        self.payment: PaymentResult | None = None
        self.validated: ValidatedOrder | None = None
        self.progress: dict[str, ShipmentUpdate] = {}
        self.before_hold = OrderStatus.RECEIVED
        self.children: dict[str, Any] = {}
        self.paid = order.payment.status == "paid"
        self.reserve_rounds = 0  # every reservation attempt has its own key, across retries
        self.progress_seen = 0
        self.cancel_refused = ""  # why a cancellation could not take (a parcel already collected)
        self.parcel_refunds: list[RefundRequest] = []  # parcels the rules chose to refund, not resend
        self.operator_then = "resend"  # what the operator chose on releasing a failed parcel
        self.unpaid_hold_minutes = 0  # the priority rules' answer (`unpaid_hold_minutes`)
        self.batched = False  # `versions.BATCHED_STATUS_WRITES`, decided as the run starts
        self.unwritten: list[StatusRecord] = []  # deferred status writes, oldest first
        self.unsent: list[SearchAttributeUpdate[Any]] = []  # search attributes going with them

    # ---- queries, signals, updates -------------------------------------------------

    @workflow.query(name="status")
    def status(self) -> OrderState:
        return self.state

    @workflow.signal(name="shipment_progress")
    def shipment_progress(self, update: ShipmentUpdate) -> None:
        self.progress[update.shipment_id] = update
        known = {s.shipment_id: s for s in self.state.shipments}
        known[update.shipment_id] = ShipmentResult(
            shipment_id=update.shipment_id, status=update.status,
            carrier=update.carrier, waybill_no=update.waybill_no,
            decisions=known[update.shipment_id].decisions if update.shipment_id in known else [])
        self.state.shipments = sorted(known.values(), key=lambda s: s.shipment_id)
        self.progress_seen += 1  # the shipping loop brings the order's status along

    @workflow.update(name="payment_received")
    async def payment_received(self, note: OperatorNote) -> ActionResult:
        self.paid = True
        return ActionResult(accepted=True, status=self.state.status, message=note.reason or "paid")

    @payment_received.validator
    def _validate_paid(self, note: OperatorNote) -> None:
        if self.paid:
            raise ValueError("cannot record a payment: the order is already paid")
        if self.state.status in CLOSED:
            raise ValueError(f"cannot record a payment: the order is already {self.state.status.value}")

    @workflow.signal(name="restock")
    def restock(self) -> None:
        self.restocked = True

    def _shipped(self) -> bool:
        return any(u.status not in NOT_SHIPPED for u in self.progress.values())

    def _in_flight(self) -> bool:
        return any(u.status in IN_FLIGHT for u in self.progress.values())

    def _changeable(self, action: str) -> None:
        if self.state.status in CLOSED:
            raise ValueError(f"cannot {action}: the order is already {self.state.status.value}")
        if self.state.status in SHIPPED_OR_LATER or self._shipped():
            raise ValueError(f"cannot {action}: the order has already shipped")
        if self.cancel_requested:
            raise ValueError(f"cannot {action}: a cancellation is in progress")

    @workflow.update(name="cancel")
    async def cancel(self, note: OperatorNote) -> ActionResult:
        self.cancel_requested = True
        self.cancel_reason = note.reason or f"cancelled by {note.operator}"
        await workflow.wait_condition(lambda: self.state.status in CLOSED or bool(self.cancel_refused))
        if self.cancel_refused and self.state.status not in CLOSED:
            raise ApplicationError(self.cancel_refused, type="cancel_refused", non_retryable=True)
        return ActionResult(accepted=True, status=self.state.status, message=self.cancel_reason)

    @cancel.validator
    def _validate_cancel(self, note: OperatorNote) -> None:
        self._changeable("cancel")

    @workflow.update(name="hold")
    async def hold(self, note: OperatorNote) -> ActionResult:
        self.state.held = True
        self.before_hold = self.state.status
        await self._set_status(OrderStatus.ON_HOLD, note.reason or f"held by {note.operator}")
        return ActionResult(accepted=True, status=self.state.status, message="on hold")

    @hold.validator
    def _validate_hold(self, note: OperatorNote) -> None:
        self._changeable("hold")
        if self.state.held:
            raise ValueError("cannot hold: the order is already on hold")

    @workflow.update(name="release")
    async def release(self, note: OperatorNote) -> ActionResult:
        self.operator_then = note.then
        self.state.held = False
        self.state.exception_type = ""
        self.state.exception_reason = ""
        await self._set_status(self.before_hold, note.reason or f"released by {note.operator}")
        return ActionResult(accepted=True, status=self.state.status, message="released")

    @release.validator
    def _validate_release(self, note: OperatorNote) -> None:
        if not self.state.held:
            raise ValueError(f"cannot release: the order is not on hold ({self.state.status.value})")
        failed_parcel = is_parcel_failure(self.state.exception_type)
        if note.then == "refund" and not failed_parcel:
            raise ValueError("cannot release with then=refund: the order is not held for a failed parcel "
                             f"({self.state.exception_type or 'held by hand'}); cancel it instead")

    @workflow.update(name="change_address")
    async def change_address(self, change: AddressChange) -> ActionResult:
        assert self.order is not None
        self.order = self.order.model_copy(update={"shipping_address": change.address})
        await run(store.RECORD_ADDRESS, AddressRecord(order_id=self.state.order_id, address=change.address))
        for child_id in self.children:
            await workflow.get_external_workflow_handle(child_id).signal("address_changed", change)
        return ActionResult(accepted=True, status=self.state.status, message="address changed")

    @change_address.validator
    def _validate_address(self, change: AddressChange) -> None:
        """Allowed until a parcel is on its way, and again when every parcel in the carriers'
        hands has come to an end (an undeliverable address is fixed before the reship)."""
        if self.state.exception_type != ExceptionKind.SHIPMENT_UNDELIVERABLE:
            self._changeable("change the address")
        elif self._in_flight():
            raise ValueError("cannot change the address: a parcel is on its way")
        if self.order is None:
            raise ValueError("cannot change the address: the order has not been read yet")

    # ---- helpers ---------------------------------------------------------------------

    async def _set_status(self, status: OrderStatus, note: str = "", defer: bool = False,
                          written: bool = False) -> None:
        """`defer`: only local steps follow before the next status, so this one is written
        with that one (batched histories only); a hold or a wait writes it at once.
        `written`: a parcel has stored this status already; only the workflow shows it."""
        if self.state.held and status not in (OrderStatus.ON_HOLD, OrderStatus.AWAITING_OPERATOR,
                                              OrderStatus.CANCELLED):
            self.before_hold = status  # a step that finished after the hold: shown on release
        else:
            self.state.status = status
            self.state.transitions.append(Transition(status=status, at=workflow.now(), note=note))
        status = self.state.status
        if written:
            await self._write_statuses()  # anything deferred goes first, as it happened first
            attrs, self.unsent = self.unsent, []
            workflow.upsert_search_attributes(
                [*attrs, *_status_attributes(status, self.state.exception_type)])
            return
        record = StatusRecord(
            order_id=self.state.order_id, status=status, priority=self.state.priority,
            exception_type=self.state.exception_type, exception_reason=self.state.exception_reason[:500],
            at=workflow.now(), ship_by=self.state.ship_by)
        if self.batched:
            self.unwritten.append(record)
            if not defer:
                await self._write_statuses()
            return
        workflow.upsert_search_attributes(_status_attributes(status, self.state.exception_type))
        await run(store.RECORD_STATUS, record)

    async def _write_statuses(self) -> None:
        """The deferred status writes and search attributes, in one upsert and one write."""
        if not self.unwritten:
            return
        batch, self.unwritten = self.unwritten, []
        attrs, self.unsent = self.unsent, []
        workflow.upsert_search_attributes(
            [*attrs, *_status_attributes(batch[-1].status, batch[-1].exception_type)])
        await run(store.RECORD_STATUSES, StatusBatch(records=batch))

    def _search_attributes(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        """Upserted now, or (batched) with the next status write."""
        if self.batched:
            self.unsent.extend(updates)
        else:
            workflow.upsert_search_attributes(updates)

    async def _decide(self, ruleset: str, facts: dict[str, Any], step: str) -> Decision:
        decision = await run(store.DECIDE, DecisionRequest(
            order_id=self.state.order_id, key=f"{self.state.order_id}:{len(self.state.decisions)}:{step}",
            ruleset=ruleset, facts=facts, step=step))
        self.state.decisions.append(decision)
        return decision

    async def _checkpoint(self) -> None:
        """Between steps: honour a hold (wait) or a cancellation (stop)."""
        if self.state.held:
            await self._write_statuses()  # nothing waits unwritten
        await workflow.wait_condition(lambda: not self.state.held or self.cancel_requested)
        if self.cancel_requested:
            raise _Cancel(self.cancel_reason)

    async def _route_exception(self, kind: ExceptionKind, attempt: int, reason: str,
                               **extra: Any) -> ExceptionOutcome:
        """Ask the exception rules what to do, and do the waiting part of the answer."""
        assert self.validated is not None or kind == ExceptionKind.INVALID_ORDER
        base = self.validated.facts if self.validated else {}
        facts = {"exception_type": kind, "attempt": attempt,
                 "customer_tier": base.get("customer_tier", "regular"),
                 "lane": self.state.priority or "standard",
                 "total_minor": base.get("total_minor", 0), **extra}
        facts.update({k: base[k] for k in ("channel", "payment_method", "remote_area") if k in base})
        decision = await self._decide("exceptions", facts, f"exception:{kind}")
        outcome = decision.outcome_as(ExceptionOutcome)
        action = outcome.action
        why = f"{reason} -> {outcome.reason}"
        self.state.exception_type = kind.value
        self.state.exception_reason = why
        if action == ExceptionAction.CANCEL:
            raise _Cancel(why)
        if action == ExceptionAction.RETRY_LATER:
            self.restocked = False
            await self._set_status(
                OrderStatus.BACKORDERED if kind == ExceptionKind.OUT_OF_STOCK else self.state.status, why)
            with contextlib.suppress(TimeoutError):  # the wait is up: try again
                await workflow.wait_condition(
                    lambda: self.cancel_requested or self.restocked,
                    timeout=timedelta(minutes=outcome.delay_minutes),
                )
        elif action in (ExceptionAction.RESHIP, ExceptionAction.REFUND):  # the caller does it, no waiting
            self.state.transitions.append(Transition(status=self.state.status, at=workflow.now(), note=why))
        elif action in WAITS_FOR_OPERATOR:
            self.state.held = True
            self.before_hold = self.state.status
            await self._set_status(OrderStatus.AWAITING_OPERATOR, why)
            await self._checkpoint()
        if self.cancel_requested:
            raise _Cancel(self.cancel_reason)
        return outcome

    # ---- the lifecycle ---------------------------------------------------------------

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        self.batched = workflow.patched(BATCHED_STATUS_WRITES)
        self._search_attributes([
            sa.CHANNEL.value_set(order.channel),
            sa.CUSTOMER_TIER.value_set(order.customer.tier.value),
            sa.ORDER_TOTAL.value_set(float(order.total)),
        ])
        try:
            await self._set_status(OrderStatus.RECEIVED, defer=True)
            await self._lifecycle()
        except _Cancel as stop:
            await self._compensate(stop.reason)
        return self.state

    async def _lifecycle(self) -> None:
        assert self.order is not None
        self.validated = await self._validate()
        await self._set_status(OrderStatus.VALIDATED, defer=True)  # also syncs the stored row to a hold
        if self.order.review:  # intake was not sure (fuzzy product match, refund in flight)
            await self._route_exception(ExceptionKind.INTAKE_REVIEW, 1,
                                        f"check at intake: {self.order.review}")
            self.state.exception_type = ""

        priority = (await self._decide("priority", self.validated.facts, "priority")).outcome_as(
            PriorityOutcome)
        self.state.priority = priority.lane
        self.state.ship_by = workflow.now() + timedelta(hours=priority.sla_hours)
        self.unpaid_hold_minutes = priority.unpaid_hold_minutes
        self._search_attributes([sa.PRIORITY.value_set(self.state.priority)])
        await self._set_status(OrderStatus.PRIORITISED, defer=True)
        if priority.review:
            await self._route_exception(ExceptionKind.FRAUD_REVIEW, 1, f"fraud review: {priority.review}")
            self.state.exception_type = ""
        sla = asyncio.create_task(self._watch_sla())

        split = (await self._decide("split", self.validated.facts, "split")).outcome_as(SplitOutcome)
        allocations = await self._reserve(split)
        if not self.paid:
            allocations = await self._hold_until_paid(allocations, split)
        if split.backorder_rest:
            await self._backorder_rest(allocations)
        self.state.allocations = allocations
        self._search_attributes([sa.WAREHOUSE.value_set(sorted({a.warehouse for a in allocations}))])
        self.state.exception_type = ""
        await self._set_status(OrderStatus.RESERVED)

        shipments = split_into_shipments(self.order.order_id, allocations, self.validated.lines, split)
        await self._checkpoint()
        self.payment = await self._authorise(allocations)
        await self._set_status(OrderStatus.PAYMENT_AUTHORISED, defer=True)
        await self._checkpoint()

        await self._set_status(OrderStatus.FULFILLING)
        results = await self._ship(shipments)
        self.state.shipments = results
        await self._set_status(OrderStatus.DELIVERED)

        captured = await self._capture()
        note = f"captured {captured.reference}"
        for refund in self.parcel_refunds:
            done = await run(payments.REFUND, refund)
            self.state.refunds.append(done)
            note += f"; refunded {done.amount} for {refund.reason}"
        self.state.exception_type = ""
        await self._set_status(OrderStatus.COMPLETED, note)
        sla.cancel()

    async def _validate(self) -> ValidatedOrder:
        """An unknown SKU goes to the rules; after a hold, release re-checks the catalogue."""
        assert self.order is not None
        attempt = 1
        while True:
            try:
                validated = await run(store.VALIDATE_ORDER, PersistOrder(order=self.order))
                self.state.errors = []
                return validated
            except (ActivityError, ApplicationError) as err:
                cause = business_failure(err, ExceptionKind.INVALID_ORDER)
                if cause is None:
                    raise
                details = cause.details[0] if cause.details else []
                self.state.errors = [FieldError.model_validate(d) for d in details]
                await self._route_exception(ExceptionKind.INVALID_ORDER, attempt, cause.message)
                attempt += 1

    async def _reserve(self, policy: SplitOutcome) -> list[Allocation]:
        """Sourced as the split decision says; what to do about a shortage is the split
        rules' `on_shortage` first, then the exception rules'."""
        assert self.order is not None and self.validated is not None
        attempt = 1
        partial = policy.on_shortage == "ship_available"
        while True:
            await self._checkpoint()
            self.reserve_rounds += 1
            result = await run(
                store.RESERVE_STOCK,
                ReserveRequest(
                    order_id=self.order.order_id, attempt_key=f"r{self.reserve_rounds}",
                    lines=self.validated.lines, destination_province=self.order.shipping_address.province,
                    allow_partial=partial, policy=policy, channel=self.order.channel))
            if result.reserved and result.allocations:
                return result.allocations
            missing = ", ".join(f"{s.sku} x{s.missing}" for s in result.shortages)
            outcome = await self._route_exception(
                ExceptionKind.OUT_OF_STOCK, attempt, f"short of {missing}",
                partial_available=bool(result.allocations))
            attempt = 1 if outcome.action == ExceptionAction.HOLD else attempt + 1
            partial = (outcome.action == ExceptionAction.SHIP_AVAILABLE
                       or policy.on_shortage == "ship_available")

    async def _hold_until_paid(self, allocations: list[Allocation],
                               policy: SplitOutcome) -> list[Allocation]:
        """An order not paid yet keeps its stock for the configured time; when that runs out
        the stock goes back (the released reservation stays in the ledger) and the exception
        rules decide: close the order, or hold it for an operator, whose release reserves
        again and starts a new wait."""
        attempt = 1
        while not self.paid:
            minutes = self.unpaid_hold_minutes
            await self._set_status(OrderStatus.AWAITING_PAYMENT, f"stock held {minutes:g} min for payment")
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self.paid or self.cancel_requested,
                                              timeout=timedelta(minutes=minutes))
            if self.cancel_requested:
                raise _Cancel(self.cancel_reason)
            if self.paid:
                break
            await run(
                store.RELEASE_STOCK,
                ReleaseRequest(order_id=self.state.order_id, reason="unpaid: reservation expired"))
            await self._route_exception(ExceptionKind.PAYMENT_TIMEOUT, attempt,
                                        f"not paid within {minutes:g} min")
            attempt += 1
            if not self.paid:
                allocations = await self._reserve(policy)
        return allocations

    async def _backorder_rest(self, allocations: list[Allocation]) -> None:
        """What could not be reserved becomes a linked order of its own, which waits for
        stock like any other; it outlives this one."""
        assert self.order is not None
        rest = backorder_for(self.order, allocations)
        if rest is None:
            return
        await workflow.start_child_workflow(
            OrderWorkflow.run, rest, id=rest.workflow_id, task_queue=queues.ORDERS,
            parent_close_policy=ParentClosePolicy.ABANDON)
        self.state.backorder_id = rest.order_id
        self.state.transitions.append(Transition(status=self.state.status, at=workflow.now(),
                                                 note=f"the rest is backordered as {rest.order_id}"))

    async def _authorise(self, allocations: list[Allocation]) -> PaymentResult:
        assert self.order is not None
        if self.order.total == 0:  # a replacement already paid for: nothing to charge
            return PaymentResult(order_id=self.order.order_id, reference="", amount=Decimal(0),
                                 state="not_required")
        amount = self.order.total
        ordered = {i: ln.quantity for i, ln in enumerate(self.order.lines)}
        reserved: dict[int, int] = {}
        for a in allocations:
            reserved[a.line_no] = reserved.get(a.line_no, 0) + a.quantity
        if reserved != ordered:  # partial shipment: charge only what ships
            goods = sum((self.order.lines[i].unit_price * q for i, q in reserved.items()), Decimal(0))
            tax = self.order.tax * goods / self.order.subtotal() if self.order.subtotal() else Decimal(0)
            amount = quantize(max(goods + self.order.shipping_fee + tax - self.order.discount,
                                  Decimal("0.01")))
        attempt = 1
        while True:
            try:
                return await run(
                    payments.AUTHORISE,
                    PaymentRequest(
                        order_id=self.order.order_id, amount=amount, currency=self.order.currency,
                        payer_id=self.order.payment.payer_id or self.order.customer.id))
            except (ActivityError, ApplicationError) as err:
                cause = business_failure(err, ExceptionKind.PAYMENT_DECLINED)
                if cause is None:
                    raise
                await self._route_exception(ExceptionKind.PAYMENT_DECLINED, attempt, cause.message,
                                            amount_minor=to_minor(amount))
                attempt += 1

    async def _capture(self) -> PaymentResult:
        """Settle the authorised amount; a refused capture goes to the exception rules (the
        goods are delivered, so cancelling is not an option: an operator settles it)."""
        assert self.payment is not None
        authorised: PaymentResult = self.payment
        if authorised.state == "not_required":
            return authorised
        attempt = 1
        while True:
            try:
                captured = await run(payments.CAPTURE, authorised)
                self.payment = captured
                return captured
            except (ActivityError, ApplicationError) as err:
                cause = business_failure(err, ExceptionKind.PAYMENT_DECLINED)
                if cause is None:
                    raise
                await self._route_exception(ExceptionKind.CAPTURE_FAILED, attempt, cause.message)
                attempt += 1

    async def _ship(self, shipments: list[Shipment]) -> list[ShipmentResult]:
        """One child per parcel; a parcel that fails goes to the exception rules, and once
        an operator releases the order it is sent again as a new parcel (`-g2`, ...)."""
        assert self.order is not None
        results: dict[str, ShipmentResult] = {}
        pending = list(shipments)
        facts = self.validated.facts if self.validated else {}
        first_id = {s.shipment_id: s.shipment_id for s in shipments}  # reship id -> parcel id
        generation = 1
        while pending:
            for s in pending:
                child_id = f"shipment-{s.shipment_id}"
                self.children[child_id] = await workflow.start_child_workflow(
                    ShipmentWorkflow.run,
                    ShipmentInput(shipment=s, address=self.order.shipping_address,
                                  lane=self.state.priority,
                                  parent_workflow_id=workflow.info().workflow_id,
                                  source_platform=self.order.channel,
                                  customer_tier=self.order.customer.tier.value,
                                  total_minor=int(facts.get("total_minor", 0)),
                                  external_id=self.order.external_id, split=len(shipments) > 1,
                                  channel_lines={ln.sku: ln.channel_line_id for ln in self.order.lines
                                                 if ln.channel_line_id}),
                    id=child_id, task_queue=queues.ORDERS,
                )
            done = await self._await_children()
            self.children = {}
            self._travelled(list(done.values()))
            for r in done.values():
                results[r.shipment_id] = r
                self.state.decisions.extend(r.decisions)
                self.state.bookings.extend(r.bookings)
            self.state.shipments = sorted(results.values(), key=lambda r: r.shipment_id)
            failed = [r for r in done.values() if r.status not in (ShipmentStatus.DELIVERED,
                                                                    ShipmentStatus.CANCELLED)]
            cancelled = [r for r in done.values() if r.status == ShipmentStatus.CANCELLED]
            by_id = {s.shipment_id: s for s in pending}
            generation += 1
            pending = []
            for r in cancelled:  # the parcel a refused cancellation did stop: its goods are refunded
                units = {ln.sku: ln.quantity for ln in by_id[r.shipment_id].lines}
                self.parcel_refunds.append(RefundRequest(
                    order_id=self.order.order_id, refund_no=f"{self.order.order_id}-{r.shipment_id}",
                    amount=parcel_value(self.order, units), reason=f"parcel {r.shipment_id} cancelled"))
            if cancelled:
                await run(store.RELEASE_STOCK, ReleaseRequest(order_id=self.order.order_id,
                                                              reason="parcel cancelled"))
            for r in failed:
                parcel = by_id[r.shipment_id]
                kind = parcel_failure(r.status.value)
                value = parcel_value(self.order, {ln.sku: ln.quantity for ln in parcel.lines})
                outcome = await self._route_exception(
                    kind, generation - 1, f"{r.shipment_id}: {r.reason}",
                    parcel_value_minor=to_minor(value), carrier=r.carrier)
                refund = outcome.action == ExceptionAction.REFUND or (
                    outcome.action in WAITS_FOR_OPERATOR and self.operator_then == "refund")
                self.operator_then = "resend"
                if refund:
                    self.parcel_refunds.append(RefundRequest(
                        order_id=self.order.order_id, refund_no=f"{self.order.order_id}-{r.shipment_id}",
                        amount=value, reason=f"parcel {r.shipment_id} {r.status.value}"))
                    continue
                new_id = f"{first_id[r.shipment_id]}-g{generation}"
                first_id[new_id] = first_id[r.shipment_id]
                pending.append(by_id[r.shipment_id].model_copy(update={"shipment_id": new_id}))
        return list(results.values())

    async def _await_children(self) -> dict[str, ShipmentResult]:
        """Wait for every running child, unless a cancel arrives before anything shipped:
        then cancel them (each undoes its WMS order and waybill) and stop."""
        done: dict[str, ShipmentResult] = {}

        async def collect(cid: str, handle: Any) -> None:
            done[cid] = await handle

        tasks = [asyncio.create_task(collect(cid, h)) for cid, h in self.children.items()]
        def finished() -> bool:
            return len(done) == len(tasks) or (self.cancel_requested and not self._shipped())

        await self._follow_parcels_until(finished)
        if len(done) < len(tasks):
            for handle in self.children.values():
                handle.cancel()
            children = list(self.children)
            await workflow.wait_condition(  # each parcel ends, or turns out to be on its way
                lambda: all(t.done() or self._travels(c) for c, t in zip(children, tasks, strict=True)))
            travelling = [c.removeprefix("shipment-") for c in children if self._travels(c)]
            if not travelling:
                await asyncio.gather(*tasks, return_exceptions=True)
                raise _Cancel(self.cancel_reason)
            # A carrier had already collected a parcel and refused to cancel it: it travels on,
            # so the order is not cancelled; a sibling that was cancelled is refunded (`_ship`).
            self.cancel_requested = False
            self.cancel_refused = (f"cannot cancel: the carrier had already collected "
                                   f"{', '.join(travelling)}; it is on its way")
            await self._follow_parcels_until(lambda: all(t.done() for t in tasks))
            for cid in children:
                done.setdefault(cid, ShipmentResult(shipment_id=cid.removeprefix("shipment-"),
                                                    status=ShipmentStatus.CANCELLED,
                                                    reason=self.cancel_reason))
        return done

    async def _follow_parcels_until(self, done: Callable[[], bool]) -> None:
        while not done():
            seen = self.progress_seen
            await workflow.wait_condition(lambda: done() or self.progress_seen != seen)  # noqa: B023
            await self._follow_parcels()

    def _travels(self, child_id: str) -> bool:
        update = self.progress.get(child_id.removeprefix("shipment-"))
        return update is not None and update.status not in NOT_SHIPPED

    async def _follow_parcels(self) -> None:
        """The order shows where its parcels are: the status of the one furthest behind.
        A parcel that has written it already (patched) is only shown, not written again."""
        if self.state.status not in ORDER_TRAVELLING:
            return
        status = order_status_while_travelling(u.status for u in self.progress.values())
        if status is not None and status != self.state.status:
            await self._set_status(status, written=any(u.recorded for u in self.progress.values()))

    def _travelled(self, ended: list[ShipmentResult]) -> None:
        """Parcels that moved the order along themselves (`versions.PARCEL_JOURNEY`)
        told it only their waybill: their later steps join the order's timeline now, at the
        parcels' times, read the way `_follow_parcels` reads them. Nothing is written (the
        parcels wrote these statuses), so no command is issued and replay is unchanged."""
        status = self.state.status
        now = {sid: u.status for sid, u in self.progress.items()}
        for r in ended:
            now.pop(r.shipment_id, None)
            self.progress[r.shipment_id] = ShipmentUpdate(
                shipment_id=r.shipment_id, status=r.status, carrier=r.carrier, waybill_no=r.waybill_no,
                recorded=bool(r.steps))
        if status not in ORDER_TRAVELLING or self.state.held:
            return
        steps = sorted(((st.at, r.shipment_id, st.status) for r in ended for st in r.steps),
                       key=lambda step: step[0])
        moved: list[Transition] = []
        for at, sid, parcel_status in steps:
            now[sid] = parcel_status
            follows = order_status_while_travelling(now.values())
            if follows is not None and follows != status:
                status = follows
                moved.append(Transition(status=status, at=at))
        if moved:
            self.state.status = status
            self.state.transitions = sorted([*self.state.transitions, *moved], key=lambda tr: tr.at)

    async def _watch_sla(self) -> None:
        assert self.state.ship_by is not None
        try:
            await workflow.wait_condition(
                lambda: self._shipped() or self.state.status in CLOSED,
                timeout=self.state.ship_by - workflow.now())
        except TimeoutError:
            self.state.escalated = True
            self.state.exception_type = ExceptionKind.SLA_BREACH.value
            await self._decide("exceptions", {
                "exception_type": ExceptionKind.SLA_BREACH.value, "attempt": 1, "lane": self.state.priority,
                "customer_tier": (self.validated.facts if self.validated else {}).get(
                    "customer_tier", "regular")}, "exception:sla_breach")
            workflow.upsert_search_attributes([sa.EXCEPTION_TYPE.value_set(ExceptionKind.SLA_BREACH.value)])

    async def _compensate(self, reason: str) -> None:
        """Undo what was done, in reverse: children already cancelled their WMS orders and
        waybills; void the payment authorisation and release the stock."""
        if self.payment is not None and self.payment.state == "authorised":
            self.payment = await run(payments.VOID, self.payment)
        if self.validated is not None:
            await run(store.RELEASE_STOCK, ReleaseRequest(order_id=self.state.order_id, reason=reason))
        self.state.held = False
        await self._set_status(OrderStatus.CANCELLED, reason)
