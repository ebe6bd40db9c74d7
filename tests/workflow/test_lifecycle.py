"""The order lifecycle on the time-skipping server with real activities and simulators."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from config import queues
from domain.messages import ActionResult, AddressChange, OperatorNote, OrderState, TrackingEvent
from domain.model import Catalogue, Order, StockLevel
from domain.status import OrderStatus, ShipmentStatus
from domain.wire import sf
from store import tables as t
from store.catalog import import_catalogue
from store.inventory import stock_row
from tests.factories import make_order, order_payload
from tests.harness import wait_until
from tests.workflow.clock import skip_to_just_before
from tests.workflow.conftest import WorkflowStack
from workflows.order import OrderWorkflow


async def start(wf: WorkflowStack, order: Order) -> WorkflowHandle[OrderWorkflow, OrderState]:
    return await wf.client.start_workflow(
        OrderWorkflow.run, order, id=order.workflow_id, task_queue=queues.ORDERS)


async def deliver_all(wf: WorkflowStack, handle: WorkflowHandle[OrderWorkflow, OrderState],
                      expected_parcels: int) -> None:
    """Play the carrier: push SF route events to every parcel once its waybill exists."""

    async def waybills() -> list[str] | None:
        state = await handle.query(OrderWorkflow.status)
        ids = [sid for sid, _ in _children(state)]
        return ids if len(ids) == expected_parcels else None

    await wait_until(waybills, "every parcel to have a waybill")
    state = await handle.query(OrderWorkflow.status)
    for sid, waybill in _children(state):
        child = wf.client.get_workflow_handle(f"shipment-{sid}")
        for op in ("50", "30", "204", "80"):
            await child.signal("tracking", TrackingEvent(waybill_no=waybill, op_code=op,
                                                           state=sf.state_of(op)))


def _children(state: OrderState) -> list[tuple[str, str]]:
    return [(s.shipment_id, s.waybill_no) for s in state.shipments if s.waybill_no]


async def test_happy_path_reaches_completed_and_consumes_stock(wf: WorkflowStack) -> None:
    order = make_order("happy-1", [("COKE-330-24", 1), ("DUMPLING-1KG", 1)])
    before = await stock_row(wf.db, "COKE-330-24", "SH-01")
    handle = await start(wf, order)
    await deliver_all(wf, handle, expected_parcels=2)
    state = await handle.result()
    assert state.status == OrderStatus.COMPLETED
    assert {s.status for s in state.shipments} == {ShipmentStatus.DELIVERED}
    services = sorted(d.ruleset for d in state.decisions)
    assert services.count("carriers") == 2 and "priority" in services and "split" in services
    after = await stock_row(wf.db, "COKE-330-24", "SH-01")
    assert after == (before[0] - 1, before[1])


async def update(handle: WorkflowHandle[Any, Any], name: str, arg: Any) -> ActionResult:
    return await handle.execute_update(name, arg, result_type=ActionResult)


async def rejection(call: Awaitable[Any]) -> str:
    """The reason an Update's validator gave for refusing it."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    return str(getattr(info.value.cause, "message", info.value))


async def set_stock(wf: WorkflowStack, sku: str, levels: dict[str, int]) -> None:
    await import_catalogue(wf.db, Catalogue(
        stock=[StockLevel(sku=sku, warehouse=w, on_hand=q) for w, q in levels.items()]))


async def status_is(handle: WorkflowHandle[OrderWorkflow, OrderState],
                    *wanted: OrderStatus) -> OrderState | None:
    state = await handle.query(OrderWorkflow.status)
    return state if state.status in wanted else None


async def ledger(wf: WorkflowStack) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        data: dict[str, Any] = (await http.get(f"{wf.urls['payments']}/admin/ledger")).json()
        return data


@pytest.mark.records("order-backordered-cancelled")
async def test_out_of_stock_waits_three_rounds_then_cancels(wf: WorkflowStack) -> None:
    await set_stock(wf, "RICE-5KG", {"SH-01": 0, "GZ-01": 0, "BJ-01": 0, "CD-01": 0})
    handle = await start(wf, make_order("oos-1", [("RICE-5KG", 1)], unit_prices={}))
    state = await handle.result()  # the 30-minute waits are skipped by the test server
    assert state.status == OrderStatus.CANCELLED
    routes = [d.fired[0] for d in state.decisions if d.ruleset == "exceptions"]
    assert routes == ["backorder-wait"] * 3 + ["backorder-give-up"]
    assert [t.status for t in state.transitions].count(OrderStatus.BACKORDERED) == 3
    assert await stock_row(wf.db, "RICE-5KG", "SH-01") == (0, 0)


async def test_out_of_stock_vip_is_held_for_an_operator_who_cancels(wf: WorkflowStack) -> None:
    await set_stock(wf, "RICE-5KG", {"SH-01": 0, "GZ-01": 0, "BJ-01": 0, "CD-01": 0})
    handle = await start(wf, make_order("oos-vip", [("RICE-5KG", 1)], tier="gold"))
    await wf.env.sleep(timedelta(hours=2))  # three 30-minute backorder waits
    state = await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "the hold")
    assert state.held
    assert state.exception_type == "out_of_stock"
    result = await update(handle, "cancel", OperatorNote(reason="customer agreed"))
    assert result.status == OrderStatus.CANCELLED


@pytest.mark.records("order-partial-stock")
async def test_partial_stock_ships_what_is_available_and_charges_only_that(wf: WorkflowStack) -> None:
    await set_stock(wf, "TSHIRT-M", {"SH-01": 1, "GZ-01": 0, "BJ-01": 0, "CD-01": 0})
    order = make_order("partial-1", [("TSHIRT-M", 3), ("COKE-330-24", 1)])
    started = await wf.env.get_current_time()
    handle = await start(wf, order)
    # three 30-minute backorder waits, then ship what we have (child workflows: no skip over it)
    await skip_to_just_before(wf.env, started + timedelta(minutes=90))
    await deliver_all(wf, handle, expected_parcels=1)
    state = await handle.result()
    assert state.status == OrderStatus.COMPLETED
    assert sum(a.quantity for a in state.allocations if a.sku == "TSHIRT-M") == 1
    captured = (await ledger(wf))["trades"][order.order_id]["total_amount"]
    assert Decimal(captured) == Decimal("79.00") + Decimal("59.00") + Decimal("10.00")

    # The two T-shirts left short are a linked backorder: no shipping fee, waiting for stock.
    assert state.backorder_id == f"{order.order_id}-bo"
    rest = wf.client.get_workflow_handle(f"order-{state.backorder_id}", result_type=OrderState)
    await wait_until(lambda: status_is(rest, OrderStatus.BACKORDERED), "the backorder to wait for stock")
    await set_stock(wf, "TSHIRT-M", {"SH-01": 2})
    await rest.signal("restock")
    await deliver_all(wf, rest, expected_parcels=1)
    done = await rest.result()
    assert done.status == OrderStatus.COMPLETED and [(a.sku, a.quantity) for a in done.allocations] == [
        ("TSHIRT-M", 2)]
    assert Decimal((await ledger(wf))["trades"][state.backorder_id]["total_amount"]) == Decimal("158.00")


async def test_payment_declined_cancels_and_releases_stock(wf: WorkflowStack) -> None:
    before = await stock_row(wf.db, "PHONE-X1", "SH-01")
    handle = await start(wf, make_order("declined-1", [("PHONE-X1", 1)], payer="decline-buyer"))
    state = await handle.result()
    assert state.status == OrderStatus.CANCELLED
    assert "payment declined" in state.transitions[-1].note
    assert await stock_row(wf.db, "PHONE-X1", "SH-01") == before
    assert (await ledger(wf))["auths"] == {}


@pytest.mark.records("order-cancel-while-held")
async def test_cancel_while_held_voids_payment_and_releases_stock(wf: WorkflowStack) -> None:
    before = await stock_row(wf.db, "COKE-330-24", "SH-01")
    order = make_order("cancel-1", [("COKE-330-24", 3)])
    handle = await start(wf, order)
    await update(handle, "hold", OperatorNote(reason="fraud check"))
    assert "already on hold" in await rejection(
        update(handle, "hold", OperatorNote()))
    result = await update(handle, "cancel", OperatorNote(reason="fraud"))
    assert result.status == OrderStatus.CANCELLED
    state = await handle.result()
    assert state.status == OrderStatus.CANCELLED
    assert await stock_row(wf.db, "COKE-330-24", "SH-01") == before
    book = await ledger(wf)
    # the hold may land before or after the authorisation: whichever, none is left live (a void
    # asserted on an authorisation known to exist: tests/e2e/test_stack.py, cancellation while
    # the carrier answers)
    mine = {a["status"] for a in book["auths"].values() if a["out_order_no"] == order.order_id}
    assert mine <= {"UNFROZEN"}
    assert book["trades"] == {}


@pytest.mark.records("order-hold-release")
async def test_hold_then_release_resumes_to_completion(wf: WorkflowStack) -> None:
    handle = await start(wf, make_order("hold-1", [("COKE-330-24", 1)]))
    await update(handle, "hold", OperatorNote(reason="check address"))
    held = await handle.query(OrderWorkflow.status)
    assert held.status == OrderStatus.ON_HOLD
    assert held.shipments == []  # nothing reaches the warehouse while held
    await update(handle, "release", OperatorNote(reason="ok"))
    assert "not on hold" in await rejection(
        update(handle, "release", OperatorNote()))
    await deliver_all(wf, handle, expected_parcels=1)
    state = await handle.result()
    assert state.status == OrderStatus.COMPLETED
    statuses = [t.status for t in state.transitions]
    assert statuses.index(OrderStatus.ON_HOLD) < statuses.index(OrderStatus.FULFILLING)


async def test_cancel_and_address_change_are_rejected_after_shipping(wf: WorkflowStack) -> None:
    order = make_order("shipped-1", [("COKE-330-24", 1)])
    handle = await start(wf, order)
    await wait_until(lambda: status_is(handle, OrderStatus.SHIPPED), "the parcel to ship")
    assert "already shipped" in await rejection(
        update(handle, "cancel", OperatorNote(reason="too late")))
    assert "already shipped" in await rejection(handle.execute_update(
        OrderWorkflow.change_address, AddressChange(address=order.shipping_address)))
    await deliver_all(wf, handle, expected_parcels=1)
    assert (await handle.result()).status == OrderStatus.COMPLETED


async def test_unknown_sku_is_cancelled_with_the_field_named(wf: WorkflowStack) -> None:
    order = make_order("bad-sku", [("COKE-330-24", 1)])
    order.lines[0].sku = "NO-SUCH-SKU"
    state = await (await start(wf, order)).result()
    assert state.status == OrderStatus.CANCELLED
    assert state.errors[0].field == "lines[0].sku" and "unknown SKU" in state.errors[0].reason


async def test_missed_ship_by_deadline_is_escalated_by_timer(wf: WorkflowStack) -> None:
    handle = await start(wf, make_order("sla-1", [("COKE-330-24", 1)]))
    await update(handle, "hold", OperatorNote(reason="waiting for customer"))
    assert not (await handle.query(OrderWorkflow.status)).escalated
    await wf.env.sleep(timedelta(hours=49))  # standard lane promises 48 hours
    state = await wait_until(lambda: _escalated(handle), "SLA escalation")
    assert state.exception_type == "sla_breach"
    assert any(d.fired == ["sla-breach-escalate"] for d in state.decisions)


async def _escalated(handle: WorkflowHandle[OrderWorkflow, OrderState]) -> OrderState | None:
    state = await handle.query(OrderWorkflow.status)
    return state if state.escalated else None


@pytest.mark.records("order-parcel-late-timer")
async def test_a_parcel_silent_past_its_promise_is_late_and_an_operator_contacts_the_customer(
        wf: WorkflowStack) -> None:
    handle = await start(wf, make_order("lost-1", [("COKE-330-24", 1)]))
    await wait_until(lambda: status_is(handle, OrderStatus.SHIPPED), "the parcel to ship")
    await wf.env.sleep(timedelta(days=10))
    state = await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "late route")
    assert state.exception_type == "shipment_late"
    assert state.shipments[0].status == ShipmentStatus.LATE
    assert "ask the customer" in state.exception_reason


async def test_undeliverable_address_is_held_fixed_and_reshipped(wf: WorkflowStack) -> None:
    order = make_order("addr-good-1", [("COKE-330-24", 1)], street="UNDELIVERABLE 1号")
    handle = await start(wf, order)
    state = await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "carrier refusal")
    assert state.exception_type == "carrier_rejected"
    refused = next(d for d in state.decisions if d.ruleset == "carriers")
    tried = [b for b in state.bookings if b.decision_key == refused.key]
    assert len(tried) >= 2 and {b.kind for b in tried} == {"refused"}  # every eligible carrier was tried
    fixed = order.shipping_address.model_copy(update={"street": "张江路88号"})
    await update(handle, "change_address", AddressChange(address=fixed))
    await update(handle, "release", OperatorNote(reason="address fixed"))

    async def reshipped() -> list[tuple[str, str]] | None:
        st = await handle.query(OrderWorkflow.status)
        got = [(s.shipment_id, s.waybill_no) for s in st.shipments if s.waybill_no]
        return got or None

    [(sid, waybill)] = await wait_until(reshipped, "the reshipped waybill")
    assert sid == f"{order.order_id}-p1-g2"  # ids may themselves contain "-g"
    child = wf.client.get_workflow_handle(f"shipment-{sid}")
    for op in ("50", "80"):
        await child.signal("tracking", TrackingEvent(waybill_no=waybill, op_code=op,
                                                           state=sf.state_of(op)))
    assert (await handle.result()).status == OrderStatus.COMPLETED


@pytest.mark.records("order-unpaid-then-paid")
async def test_an_unpaid_order_keeps_its_stock_until_paid_then_ships(wf: WorkflowStack) -> None:
    await set_stock(wf, "TSHIRT-M", {"SH-01": 2, "GZ-01": 0, "BJ-01": 0, "CD-01": 0})
    order = Order.model_validate({**order_payload("unpaid-paid", [("TSHIRT-M", 2)]),
                                  "payment": {"method": "alipay", "status": "awaiting"}})
    handle = await start(wf, order)
    await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_PAYMENT), "the payment wait")
    assert await stock_row(wf.db, "TSHIRT-M", "SH-01") == (2, 2)
    await wf.env.sleep(timedelta(minutes=20))  # within the 30 minutes
    result = await update(handle, "payment_received", OperatorNote(reason="bank transfer arrived"))
    assert result.accepted
    assert "already paid" in await rejection(update(handle, "payment_received", OperatorNote()))
    await deliver_all(wf, handle, expected_parcels=1)
    assert (await handle.result()).status == OrderStatus.COMPLETED
    assert await stock_row(wf.db, "TSHIRT-M", "SH-01") == (0, 0)


async def test_an_unpaid_order_is_closed_when_its_reservation_expires_and_the_stock_returns(
    wf: WorkflowStack,
) -> None:
    await set_stock(wf, "TSHIRT-M", {"SH-01": 2, "GZ-01": 0, "BJ-01": 0, "CD-01": 0})
    order = Order.model_validate({**order_payload("unpaid-late", [("TSHIRT-M", 2)]),
                                  "payment": {"method": "alipay", "status": "awaiting"}})
    state = await (await start(wf, order)).result()  # the 30-minute timer is skipped
    assert state.status == OrderStatus.CANCELLED and "not paid in time" in state.transitions[-1].note
    assert await stock_row(wf.db, "TSHIRT-M", "SH-01") == (2, 0)
    async with wf.db.connect() as conn:
        rows = (await conn.execute(select(t.reservations.c.status)
                                   .where(t.reservations.c.order_id == order.order_id))).all()
    assert [r.status for r in rows] == ["released"]  # history, not deleted


async def test_an_unpaid_gold_order_is_held_for_a_call_and_reserved_again_on_release(
    wf: WorkflowStack,
) -> None:
    await set_stock(wf, "TSHIRT-M", {"SH-01": 1, "GZ-01": 0, "BJ-01": 0, "CD-01": 0})
    order = Order.model_validate({**order_payload("unpaid-gold", [("TSHIRT-M", 1)], tier="gold"),
                                  "payment": {"method": "alipay", "status": "awaiting"}})
    handle = await start(wf, order)
    await wf.env.sleep(timedelta(minutes=31))
    held = await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "the call-first hold")
    assert held.exception_type == "payment_timeout"
    assert await stock_row(wf.db, "TSHIRT-M", "SH-01") == (1, 0)  # released while we call
    await update(handle, "release", OperatorNote(reason="customer pays today"))
    await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_PAYMENT), "a new payment wait")
    assert await stock_row(wf.db, "TSHIRT-M", "SH-01") == (1, 1)
    await update(handle, "payment_received", OperatorNote())
    await deliver_all(wf, handle, expected_parcels=1)
    assert (await handle.result()).status == OrderStatus.COMPLETED
