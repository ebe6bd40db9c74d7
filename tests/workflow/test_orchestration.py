"""The order's orchestration alone: every activity replaced at its contract by a fake that
records what it was asked and answers in the contract's output model, as Temporal's samples
test workflows. No database, simulator or rule engine runs, so what these tests pin is the
workflow's own logic: which branch a rule's answer takes, what is sent again, what is
refunded, and the order in which a cancelled order is undone.

The real activities are exercised by the other workflow tests and the e2e tests.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest_asyncio
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import carriers, channels, payments, store, wms
from activities.contracts.base import Activity
from config import queues
from domain.exceptions import ExceptionAction, ExceptionKind
from domain.facts import line_facts, order_facts
from domain.messages import Allocation as Alloc
from domain.messages import (
    BookingEvent,
    Count,
    Decision,
    DecisionRequest,
    DeliveryOrderRef,
    OrderState,
    PaymentRequest,
    PaymentResult,
    Quote,
    Quotes,
    RefundRequest,
    RefundResult,
    ReserveRequest,
    ReserveResult,
    ShipmentNotice,
    TrackingEvent,
    ValidatedOrder,
    Waybill,
    WaybillRequest,
)
from domain.model import Order, Product
from domain.rulesets import CarrierOutcome, ExceptionOutcome, PriorityOutcome, SplitOutcome
from domain.status import OrderStatus
from domain.tracking import TrackingState
from tests.factories import carrier_rules, make_order, split_rules
from tests.harness import binary, load_demo_catalogue, wait_until
from tests.workflow.conftest import register_search_attributes
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow
from workflows.shipment import ShipmentWorkflow

PRODUCTS: dict[str, Product] = {p.sku: p for p in load_demo_catalogue().products}
QUOTE = Quote(carrier="sf", service="standard", fee=Decimal("12.00"), transit_days=2, eligible=True,
              promised_days=2)


@dataclass
class Fakes:
    """Canned answers per contract, and every call in the order it was made."""

    exception_action: dict[ExceptionKind, ExceptionAction] = field(default_factory=dict)
    refuse_waybills: bool = False
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def names(self, *wanted: Activity[Any, Any]) -> list[str]:
        names = {c.name for c in wanted}
        return [n for n, _ in self.calls if n in names]

    def inputs(self, contract: Activity[Any, Any]) -> list[Any]:
        return [arg for n, arg in self.calls if n == contract.name]

    def _fake(self, contract: Activity[Any, Any], answer: Callable[[Any], Any]) -> Callable[..., Any]:
        async def fake(arg: Any) -> Any:
            self.calls.append((contract.name, arg))
            return answer(arg)

        fake.__annotations__ = {"arg": contract.input, "return": contract.output}
        return activity.defn(name=contract.name)(fake)

    def _decide(self, req: DecisionRequest) -> Decision:
        outcome: Any
        if req.ruleset == "priority":
            outcome = PriorityOutcome(lane="standard", sla_hours=48, review="", unpaid_hold_minutes=30)
        elif req.ruleset == "split":
            outcome = split_rules()
        elif req.ruleset == "carriers":
            outcome = carrier_rules()
        else:
            kind = ExceptionKind(req.facts["exception_type"])
            action = self.exception_action.get(kind, ExceptionAction.HOLD)
            outcome = ExceptionOutcome(action=action, delay_minutes=30, reason=f"fake: {action.value}")
        return Decision(ruleset=req.ruleset, version="fake", fired=[], facts=req.facts, outcome=outcome,
                        step=req.step, key=req.key)

    def _waybill(self, req: WaybillRequest) -> Waybill:
        if self.refuse_waybills:
            raise ApplicationError(f"{req.carrier}: no", type=ExceptionKind.CARRIER_REJECTED.value,
                                   non_retryable=True)
        return Waybill(carrier=req.carrier, waybill_no=f"WB-{req.shipment.shipment_id}")

    def orders_queue(self) -> list[Callable[..., Any]]:
        def validate(req: Any) -> ValidatedOrder:
            lines = line_facts(req.order, PRODUCTS)
            return ValidatedOrder(order_id=req.order.order_id, lines=lines,
                                  facts=order_facts(req.order, lines))

        def reserve(req: ReserveRequest) -> ReserveResult:
            return ReserveResult(allocations=[
                Alloc(line_no=ln.line_no, sku=ln.sku, warehouse="SH-01", quantity=ln.quantity)
                for ln in req.lines], shortages=[])

        return [
            self._fake(store.VALIDATE_ORDER, validate),
            self._fake(store.DECIDE, self._decide),
            self._fake(store.RESERVE_STOCK, reserve),
            self._fake(store.RELEASE_STOCK, lambda _: Count(value=1)),
            self._fake(store.CONSUME_STOCK, lambda _: Count(value=1)),
            self._fake(store.RECORD_STATUS, lambda _: None),
            self._fake(store.RECORD_STATUSES, lambda _: None),
            self._fake(store.RECORD_SHIPMENT, lambda _: None),
            self._fake(store.RECORD_ADDRESS, lambda _: None),
            self._fake(store.RECORD_BOOKING, lambda _: None),
            self._fake(store.QUOTE_CARRIERS, lambda _: Quotes(quotes=[QUOTE], origin_province="上海")),
        ]

    def remote(self) -> dict[str, list[Callable[..., Any]]]:
        def authorise(req: PaymentRequest) -> PaymentResult:
            return PaymentResult(order_id=req.order_id, reference=f"AUTH-{req.order_id}", amount=req.amount,
                                 state="authorised")

        def settle(state: str) -> Callable[[PaymentResult], PaymentResult]:
            return lambda p: p.model_copy(update={"state": state})

        def refund(req: RefundRequest) -> RefundResult:
            return RefundResult(refund_no=req.refund_no, amount=req.amount, refunded_total=req.amount)

        return {
            queues.WMS: [self._fake(wms.CREATE_DELIVERY_ORDER, lambda r: DeliveryOrderRef(
                             delivery_order_code=r.shipment.shipment_id, wms_order_id="W1")),
                         self._fake(wms.CANCEL_DELIVERY_ORDER, lambda _: None)],
            queues.CARRIERS: [self._fake(carriers.CREATE_WAYBILL, self._waybill),
                              self._fake(carriers.CANCEL_WAYBILL, lambda _: None)],
            queues.CHANNELS: [self._fake(channels.CONFIRM_SHIPMENT, lambda _: "sent")],
            queues.PAYMENTS: [self._fake(payments.AUTHORISE, authorise),
                              self._fake(payments.CAPTURE, settle("captured")),
                              self._fake(payments.VOID, settle("voided")),
                              self._fake(payments.REFUND, refund)],
        }


@dataclass
class FakeStack:
    client: Client
    fakes: Fakes


@pytest_asyncio.fixture
async def stack() -> AsyncIterator[FakeStack]:
    fakes = Fakes()
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=binary("temporal-test-server"))
    async with env, contextlib.AsyncExitStack() as workers:
        await register_search_attributes(env.client)
        await workers.enter_async_context(Worker(
            env.client, task_queue=queues.ORDERS, activities=fakes.orders_queue(),
            workflows=[OrderWorkflow, ShipmentWorkflow, ReturnWorkflow]))
        for queue, fns in fakes.remote().items():
            await workers.enter_async_context(Worker(env.client, task_queue=queue, activities=fns))
        yield FakeStack(client=env.client, fakes=fakes)


def an_order(lines: list[tuple[str, int]] | None = None) -> Order:
    return make_order(f"orch-{uuid.uuid4().hex[:8]}", lines or [("COKE-330-24", 2)])


async def start(s: FakeStack, order: Order) -> WorkflowHandle[OrderWorkflow, OrderState]:
    return await s.client.start_workflow(OrderWorkflow.run, order, id=order.workflow_id,
                                         task_queue=queues.ORDERS)


async def carrier_reports(s: FakeStack, shipment_id: str, *states: TrackingState) -> None:
    """Play the carrier once the parcel's waybill exists."""
    handle = s.client.get_workflow_handle(f"shipment-{shipment_id}")

    async def booked() -> bool | None:
        booked_ids = {w.shipment.shipment_id for w in s.fakes.inputs(carriers.CREATE_WAYBILL)}
        return True if shipment_id in booked_ids else None

    await wait_until(booked, f"a waybill for {shipment_id}")
    await wait_until(lambda: _running(handle), f"{shipment_id} following its parcel")
    for state in states:
        event = TrackingEvent(waybill_no=f"WB-{shipment_id}", op_code="x", state=state)
        await handle.signal("tracking", event)


async def _running(handle: WorkflowHandle[Any, Any]) -> bool | None:
    try:
        await handle.query("promised_by")
    except Exception:
        return None
    return True


async def test_a_lost_parcel_is_sent_again_as_a_new_parcel_and_the_order_is_captured_once(
    stack: FakeStack,
) -> None:
    stack.fakes.exception_action[ExceptionKind.SHIPMENT_LOST] = ExceptionAction.RESHIP
    order = an_order()
    handle = await start(stack, order)
    first = f"{order.order_id}-p1"
    await carrier_reports(stack, first, TrackingState.COLLECTED, TrackingState.LOST)
    await carrier_reports(stack, f"{first}-g2", TrackingState.COLLECTED, TrackingState.DELIVERED)
    state = await handle.result()

    assert state.status == OrderStatus.COMPLETED
    both = [first, f"{first}-g2"]
    assert [w.shipment.shipment_id for w in stack.fakes.inputs(carriers.CREATE_WAYBILL)] == both
    assert [d.shipment.shipment_id for d in stack.fakes.inputs(wms.CREATE_DELIVERY_ORDER)] == both
    assert stack.fakes.names(payments.AUTHORISE, payments.CAPTURE, payments.REFUND, payments.VOID) == [
        payments.AUTHORISE.name, payments.CAPTURE.name]  # one charge, nothing refunded
    asked = [req.facts["exception_type"] for req in stack.fakes.inputs(store.DECIDE)
             if req.ruleset == "exceptions"]
    assert asked == ["shipment_lost"]


async def test_a_damaged_parcel_the_rules_refund_is_refunded_once_after_capture_and_not_resent(
    stack: FakeStack,
) -> None:
    stack.fakes.exception_action[ExceptionKind.SHIPMENT_DAMAGED] = ExceptionAction.REFUND
    order = an_order([("COKE-330-24", 2)])
    handle = await start(stack, order)
    parcel = f"{order.order_id}-p1"
    await carrier_reports(stack, parcel, TrackingState.COLLECTED, TrackingState.DAMAGED)
    state = await handle.result()

    assert state.status == OrderStatus.COMPLETED
    assert len(stack.fakes.inputs(carriers.CREATE_WAYBILL)) == 1  # nothing sent again
    assert stack.fakes.names(payments.AUTHORISE, payments.CAPTURE, payments.REFUND, payments.VOID) == [
        payments.AUTHORISE.name, payments.CAPTURE.name, payments.REFUND.name]
    [refund] = stack.fakes.inputs(payments.REFUND)
    assert refund.refund_no == f"{order.order_id}-{parcel}"  # one number per parcel: paid once
    assert refund.amount == Decimal("118.00")  # the parcel's goods: 2 x 59.00, not the shipping fee
    assert [r.refund_no for r in state.refunds] == [refund.refund_no]


async def test_a_parcel_no_carrier_takes_cancels_the_order_and_undoes_it_in_reverse(stack: FakeStack) -> None:
    stack.fakes.refuse_waybills = True
    stack.fakes.exception_action[ExceptionKind.CARRIER_REJECTED] = ExceptionAction.CANCEL
    handle = await start(stack, an_order())
    state = await handle.result()

    assert state.status == OrderStatus.CANCELLED
    # the WMS order is cancelled by the parcel, then the payment is voided, then the stock released
    assert stack.fakes.names(wms.CREATE_DELIVERY_ORDER, wms.CANCEL_DELIVERY_ORDER, payments.AUTHORISE,
                             payments.VOID, payments.CAPTURE, store.RELEASE_STOCK) == [
        payments.AUTHORISE.name, wms.CREATE_DELIVERY_ORDER.name, wms.CANCEL_DELIVERY_ORDER.name,
        payments.VOID.name, store.RELEASE_STOCK.name]
    [voided] = stack.fakes.inputs(payments.VOID)
    assert voided.state == "authorised"  # the authorisation itself is voided, never a capture
    refused: list[BookingEvent] = state.bookings
    assert [(b.kind, b.carrier) for b in refused] == [("refused", "sf")]
    assert isinstance(state.decisions[0].outcome, PriorityOutcome)
    assert all(isinstance(d.outcome, CarrierOutcome) for d in state.decisions if d.ruleset == "carriers")
    assert all(isinstance(d.outcome, SplitOutcome) for d in state.decisions if d.ruleset == "split")


async def test_channel_write_back_names_the_parcel_and_its_waybill(stack: FakeStack) -> None:
    order = an_order()
    handle = await start(stack, order)
    parcel = f"{order.order_id}-p1"
    await carrier_reports(stack, parcel, TrackingState.COLLECTED, TrackingState.DELIVERED)
    assert (await handle.result()).status == OrderStatus.COMPLETED
    [notice] = stack.fakes.inputs(channels.CONFIRM_SHIPMENT)
    assert isinstance(notice, ShipmentNotice)
    assert (notice.shipment_id, notice.waybill_no) == (parcel, f"WB-{parcel}")
    assert notice.external_id == order.external_id
