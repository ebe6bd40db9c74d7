"""Carriers on the time-skipping server: rate shopping under each constraint, a carrier that
stays down, tracking to delivered with the waybill written back to the channel, and the
parcels that fail in the carrier's hands (late, lost, damaged, undeliverable)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError

from domain.access import SYSTEM
from domain.messages import (
    AddressChange,
    BookingEvent,
    Decision,
    OperatorNote,
    OrderState,
    TrackingEvent,
)
from domain.rulesets import CarrierOutcome
from domain.status import OrderStatus, ShipmentStatus
from domain.tracking import TrackingState
from services.rules import explain_order
from store import decisions as decision_store
from store import orders as order_store
from tests.factories import carrier_rules, make_order
from tests.harness import wait_until
from tests.workflow.clock import result_of, skip_to_just_before
from tests.workflow.conftest import WorkflowStack
from tests.workflow.test_lifecycle import deliver_all, start, status_is, update
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow

NOODLES = {"NOODLE-5PK": Decimal("16.90"), "SOY-SAUCE-1L": Decimal("19.80")}


async def parcels(
    handle: WorkflowHandle[OrderWorkflow, OrderState], n: int, besides: str = ""
) -> list[tuple[str, str]]:
    """(shipment id, waybill) of the order's travelling parcels (other than `besides`), once there are n."""

    async def booked() -> list[tuple[str, str]] | None:
        state = await handle.query(OrderWorkflow.status)
        found = [
            (s.shipment_id, s.waybill_no)
            for s in state.shipments
            if s.waybill_no
            and s.shipment_id != besides
            and s.status
            not in (
                ShipmentStatus.LOST,
                ShipmentStatus.LATE,
                ShipmentStatus.DAMAGED,
                ShipmentStatus.UNDELIVERABLE,
                ShipmentStatus.DELIVERED,
            )
        ]
        return found if len(found) >= n else None

    return await wait_until(booked, f"{n} parcel(s) with a waybill")


async def push(wf: WorkflowStack, shipment_id: str, waybill: str, *states: TrackingState) -> None:
    child = wf.client.get_workflow_handle(f"shipment-{shipment_id}")
    for state in states:
        await child.signal(
            "tracking",
            TrackingEvent(
                waybill_no=waybill, op_code=state.value, state=state, remark=f"test: {state.value}"
            ),
        )


def carrier_decisions(state: OrderState) -> list[Decision]:
    return [d for d in state.decisions if d.ruleset == "carriers"]


def booked(bookings: list[BookingEvent], decision: Decision) -> BookingEvent:
    """The carrier that took the parcel, recorded after (and apart from) the decision."""
    [event] = [b for b in bookings if b.decision_key == decision.key and b.kind == "booked"]
    return event


def best_by_the_rules(decision: Decision) -> tuple[str, str]:
    """What the lane's balance says should win among the quotes the decision recorded."""
    outcome = decision.outcome_as(CarrierOutcome)
    day = Decimal(outcome.day_value)
    banned = set(outcome.exclude_carriers)
    quotes = [q for q in decision.facts["quotes"] if q["eligible"] and q["carrier"] not in banned]
    key: Any = {
        "fastest": lambda q: (q["promised_days"], Decimal(q["fee"])),
        "cheapest": lambda q: (Decimal(q["fee"]), q["promised_days"]),
    }.get(outcome.strategy, lambda q: (Decimal(q["fee"]) + day * q["promised_days"], q["promised_days"]))
    best = min(quotes, key=lambda q: (key(q), q["carrier"], q["level"]))
    return best["carrier"], best["level"]


async def test_rate_shopping_keeps_every_constraint_and_records_every_quote(wf: WorkflowStack) -> None:
    order = make_order("rate-1", [("COKE-330-24", 1), ("DUMPLING-1KG", 1), ("POWERBANK-20K", 1)], tier="gold")
    handle = await start(wf, order)
    await deliver_all(wf, handle, expected_parcels=3)
    state = await handle.result()
    assert state.status == OrderStatus.COMPLETED
    by_service = {d.facts["service"]: d for d in carrier_decisions(state)}
    assert set(by_service) == {"standard", "cold_chain", "hazmat"}
    for service, d in by_service.items():
        assert {q["carrier"] for q in d.facts["quotes"]} == {"sf", "zto", "jd", "ems", "dhl"}, service
        took = booked(state.bookings, d)
        assert (took.carrier, took.level) == best_by_the_rules(d), service
        assert d.outcome_as(CarrierOutcome).day_value == 60  # a gold member rides the express lane
    assert booked(state.bookings, by_service["cold_chain"]).carrier in ("sf", "jd")  # only cold chain
    assert booked(state.bookings, by_service["hazmat"]).carrier == "ems"  # only one takes hazmat
    reasons = {q["carrier"]: q["reason"] for q in by_service["hazmat"].facts["quotes"]}
    assert reasons["sf"] == "does not accept hazmat"
    assert {q["level"] for q in by_service["standard"].facts["quotes"]} == {"standard", "express"}


async def test_a_carrier_that_stays_down_is_passed_over_for_the_next_best(wf: WorkflowStack) -> None:
    async with httpx.AsyncClient() as http:
        await http.put(f"{wf.urls['carriers']}/admin/down", json=["zto"])
    handle = await start(wf, make_order("down-1", [("COKE-330-24", 1)]))  # ZTO is the cheapest here
    [(sid, waybill)] = await parcels(handle, 1)
    await push(wf, sid, waybill, TrackingState.COLLECTED, TrackingState.DELIVERED)
    state = await handle.result()
    [decision] = carrier_decisions(state)
    refused, took = [b for b in state.bookings if b.decision_key == decision.key]
    assert (refused.kind, refused.carrier, refused.seq) == ("refused", "zto", 1)
    assert "unavailable" in refused.reason
    assert (took.kind, took.seq) == ("booked", 2) and took.carrier != "zto"
    assert state.shipments[0].carrier == took.carrier and took.fee is not None
    # the decision is as the rules made it: nothing that happened after was written into it
    assert set(decision.outcome.model_dump()) == set(CarrierOutcome.model_fields)
    [logged] = [r for r in await decision_store.decisions_for_order(wf.db, state.order_id)
                if r.key == decision.key]
    assert logged.outcome == decision.outcome.model_dump(mode="json")
    explained = await explain_order(SYSTEM, wf.db, state.order_id)
    [carrier_step] = [e for e in explained if e.ruleset == "carriers"]
    assert [(f.kind, f.carrier) for f in carrier_step.followups] == [
        ("refused", "zto"), ("booked", took.carrier)]


@pytest.mark.records("order-tracked-to-delivery")
async def test_tracking_moves_the_order_to_delivered_and_the_waybill_reaches_shopify(
    wf: WorkflowStack,
) -> None:
    handle = await start(wf, make_order("track-1", [("COKE-330-24", 1)]))
    [(sid, waybill)] = await parcels(handle, 1)
    order_id = (await handle.query(OrderWorkflow.status)).order_id

    async def stored(wanted: OrderStatus) -> bool:
        record = await order_store.get_order(wf.db, order_id)
        return record is not None and record.status == wanted.value

    for state, order_status in (
        (TrackingState.COLLECTED, OrderStatus.IN_TRANSIT),
        (TrackingState.OUT_FOR_DELIVERY, OrderStatus.OUT_FOR_DELIVERY),
    ):
        await push(wf, sid, waybill, state)
        # the parcel moves its order along in the read model the console and API show
        await wait_until(lambda s=order_status: stored(s), f"order {order_status}")  # type: ignore[misc]
    await push(wf, sid, waybill, TrackingState.DELIVERED)
    final = await handle.result()
    assert final.status == OrderStatus.COMPLETED
    travel = (OrderStatus.SHIPPED, OrderStatus.IN_TRANSIT, OrderStatus.OUT_FOR_DELIVERY,
              OrderStatus.DELIVERED)
    assert [t.status for t in final.transitions if t.status in travel] == list(travel)
    assert [t.at for t in final.transitions] == sorted(t.at for t in final.transitions)
    # the stored timeline is the workflow's: one step each, the travel at the parcel's times
    steps = [row for row in await order_store.transitions(wf.db, order_id) if row.status in travel]
    assert [row.status for row in steps] == [s.value for s in travel]
    moved = (OrderStatus.IN_TRANSIT, OrderStatus.OUT_FOR_DELIVERY)
    assert [row.at for row in steps if row.status in moved] == [
        t.at for t in final.transitions if t.status in moved]
    async with httpx.AsyncClient() as http:
        received = (await http.get(f"{wf.urls['channels']}/admin/received")).json()["received"]
    [fulfillment] = [r["body"] for r in received if r["body"]["tracking_info"]["number"] == waybill]
    assert fulfillment["notify_customer"] is True


@pytest.mark.records("order-lost-reshipped-refunded")
async def test_a_lost_parcel_is_sent_again_and_lost_twice_its_goods_are_refunded(wf: WorkflowStack) -> None:
    order = make_order("lost-2", [("COKE-330-24", 1)], tier="regular")
    handle = await start(wf, order)
    [(sid, waybill)] = await parcels(handle, 1)
    await push(wf, sid, waybill, TrackingState.COLLECTED, TrackingState.LOST)
    [(again, waybill2)] = await parcels(handle, 1, besides=sid)
    assert again == f"{sid}-g2"  # sent again by the rules, no operator
    assert (await handle.query(OrderWorkflow.status)).exception_type == "shipment_lost"
    await push(wf, again, waybill2, TrackingState.COLLECTED, TrackingState.LOST)
    state = await handle.result()
    assert state.status == OrderStatus.COMPLETED
    [refund] = state.refunds
    assert refund.amount == Decimal("59.00") and refund.refund_no == f"{order.order_id}-{again}"
    async with httpx.AsyncClient() as http:
        ledger = (await http.get(f"{wf.urls['payments']}/admin/ledger")).json()
    assert [r["send_back_fee"] for r in ledger["refunds"].values()] == ["59.00"]  # shipping is not refunded
    assert any(d.fired == ["lost-twice-refund"] for d in state.decisions)


async def test_a_damaged_cheap_parcel_is_refunded_not_resent(wf: WorkflowStack) -> None:
    handle = await start(wf, make_order("dmg-1", [("NOODLE-5PK", 2)], unit_prices=NOODLES))
    [(sid, waybill)] = await parcels(handle, 1)
    await push(wf, sid, waybill, TrackingState.COLLECTED, TrackingState.DAMAGED)
    state = await handle.result()
    assert [s.status for s in state.shipments] == [ShipmentStatus.DAMAGED]  # no second parcel
    assert [r.amount for r in state.refunds] == [Decimal("33.80")]


@pytest.mark.records("order-undeliverable-reshipped")
async def test_an_undeliverable_parcel_waits_for_a_new_address_then_goes_again(wf: WorkflowStack) -> None:
    order = make_order("nobody-1", [("COKE-330-24", 1)])
    handle = await start(wf, order)
    [(sid, waybill)] = await parcels(handle, 1)
    assert "cannot change the address" in str(await _refusal(handle, order))  # on its way
    await push(
        wf, sid, waybill, TrackingState.COLLECTED, TrackingState.OUT_FOR_DELIVERY, TrackingState.UNDELIVERABLE
    )
    state = await wait_until(
        lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "a call to the customer"
    )
    assert state.exception_type == "shipment_undeliverable"
    fixed = order.shipping_address.model_copy(update={"street": "张江路99号 前台代收"})
    await update(handle, "change_address", AddressChange(address=fixed))
    await update(handle, "release", OperatorNote(reason="customer gave the office address"))
    [(again, waybill2)] = await parcels(handle, 1, besides=sid)
    assert again == f"{sid}-g2"
    async with httpx.AsyncClient() as http:
        booked = (await http.get(f"{wf.urls['carriers']}/admin/waybills")).json()["waybills"]
    assert next(b for b in booked.values() if b["orderId"] == again)["waybill"] == waybill2
    await push(wf, again, waybill2, TrackingState.DELIVERED)
    assert (await handle.result()).status == OrderStatus.COMPLETED


async def test_an_undeliverable_parcel_is_refunded_when_the_operator_says_so(wf: WorkflowStack) -> None:
    """contact_customer, and the customer wants the money, not the parcel: the operator
    releases with `then: refund`; the parcel is refunded once and not sent again."""
    order = make_order("nobody-2", [("COKE-330-24", 1)])
    handle = await start(wf, order)
    [(sid, waybill)] = await parcels(handle, 1)
    await push(wf, sid, waybill, TrackingState.COLLECTED, TrackingState.UNDELIVERABLE)
    await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "a call to the customer")
    await update(handle, "release", OperatorNote(reason="customer wants the money back", then="refund"))
    state = await handle.result()
    assert [s.status for s in state.shipments] == [ShipmentStatus.UNDELIVERABLE]  # not sent again
    [refund] = state.refunds
    assert refund.amount == Decimal("59.00") and refund.refund_no == f"{order.order_id}-{sid}"
    async with httpx.AsyncClient() as http:
        ledger = (await http.get(f"{wf.urls['payments']}/admin/ledger")).json()
    paid_back = [(k, r["send_back_fee"]) for k, r in ledger["refunds"].items()
                 if r["out_trade_no"] == order.order_id]
    assert paid_back == [(refund.refund_no, "59.00")]  # once


async def _refusal(handle: WorkflowHandle[OrderWorkflow, OrderState], order: Any) -> Exception | None:
    try:
        await update(handle, "change_address", AddressChange(address=order.shipping_address))
    except Exception as exc:  # the validator's refusal
        return getattr(exc, "cause", exc)
    return None


async def test_a_members_parcel_silent_past_its_promise_is_sent_again_at_once(wf: WorkflowStack) -> None:
    handle = await start(wf, make_order("late-gold", [("COKE-330-24", 1)], tier="gold"))
    [(sid, waybill)] = await parcels(handle, 1)
    await push(wf, sid, waybill, TrackingState.COLLECTED)
    first = wf.client.get_workflow_handle(f"shipment-{sid}")
    promised = await first.query(ShipmentWorkflow.promise)
    assert promised is not None
    grace = timedelta(days=carrier_rules().transit_grace_days)  # the shipped carrier rules
    await skip_to_just_before(wf.env, promised + grace)  # the reship starts a child workflow
    assert (await first.query(ShipmentWorkflow.current)) == ShipmentStatus.IN_TRANSIT
    [(again, waybill2)] = await parcels(handle, 1, besides=sid)
    assert again == f"{sid}-g2"
    state = await handle.query(OrderWorkflow.status)
    assert state.shipments[0].status == ShipmentStatus.LATE and not state.held
    await push(wf, again, waybill2, TrackingState.DELIVERED)
    assert (await handle.result()).status == OrderStatus.COMPLETED


@pytest.mark.records("shipment-heard-after-its-promise")
async def test_an_event_after_the_promise_moves_the_late_deadline_on(wf: WorkflowStack) -> None:
    """Late counts from the last event when that is after the promise: the timer set for the
    first deadline fires with the parcel still on its way, and a new one runs to the new
    deadline (patch `parcel-journey`: the timer is not restarted on every event)."""
    handle = await start(wf, make_order("late-moved", [("COKE-330-24", 1)], tier="gold"))
    [(sid, waybill)] = await parcels(handle, 1)
    first = wf.client.get_workflow_handle(f"shipment-{sid}")
    promised = await first.query(ShipmentWorkflow.promise)
    assert promised is not None
    grace = timedelta(days=carrier_rules().transit_grace_days)
    await skip_to_just_before(wf.env, promised + timedelta(hours=12))
    await push(wf, sid, waybill, TrackingState.IN_TRANSIT)  # heard after the promise
    heard = await wf.env.get_current_time()
    await skip_to_just_before(wf.env, promised + grace + timedelta(hours=6))  # past the first deadline
    assert (await first.query(ShipmentWorkflow.current)) == ShipmentStatus.IN_TRANSIT
    await skip_to_just_before(wf.env, heard + grace)
    [(again, waybill2)] = await parcels(handle, 1, besides=sid)
    assert again == f"{sid}-g2"
    assert (await first.query(ShipmentWorkflow.current)) == ShipmentStatus.LATE
    assert await wf.env.get_current_time() >= heard + grace
    await push(wf, again, waybill2, TrackingState.DELIVERED)
    assert (await result_of(handle)).status == OrderStatus.COMPLETED


@pytest.mark.records("shipment-cancelled-waiting-for-collection")
async def test_a_parcel_cancelled_from_the_temporal_ui_cancels_its_waybill_and_wms_order(
    wf: WorkflowStack,
) -> None:
    """An operator cancels a parcel's workflow (Temporal Web UI, `temporal workflow cancel`)
    while it waits for the carrier to collect it: the waybill and the WMS delivery order are
    cancelled at the carrier and the WMS before the workflow ends as cancelled. Its
    pre-`cancel-unanswered-booking` history is kept in tests/replay/histories."""
    handle = await start(wf, make_order("ui-cancel-1", [("COKE-330-24", 1)]))
    [(sid, waybill)] = await parcels(handle, 1)
    child = wf.client.get_workflow_handle(f"shipment-{sid}")
    await child.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await result_of(child)
    assert isinstance(failure.value.cause, CancelledError)
    async with httpx.AsyncClient() as http:
        bookings = (await http.get(f"{wf.urls['carriers']}/admin/waybills")).json()["waybills"]
        wms_orders = (await http.get(f"{wf.urls['wms']}/admin/orders")).json()["orders"]
    [booking] = [b for b in bookings.values() if b["waybill"] == waybill]
    assert booking["cancelled"] is True
    assert wms_orders[sid]["status"] == "CANCELED"


@pytest.mark.records("shipment-collected-before-its-cancel")
async def test_a_parcel_the_carrier_has_collected_is_not_cancelled_but_followed_to_delivery(
    wf: WorkflowStack,
) -> None:
    """The courier has collected the parcel when its cancellation reaches the carrier, which
    refuses it ("already collected"): the parcel is followed to delivery, not abandoned with
    the goods on the road, and the order completes and is charged once (found by `ordo chaos`)."""
    order = make_order("collected-1", [("COKE-330-24", 1)])
    handle = await start(wf, order)
    [(sid, waybill)] = await parcels(handle, 1)
    async with httpx.AsyncClient() as http:
        collected = await http.post(f"{wf.urls['carriers']}/admin/collect", json={"waybill": waybill})
        assert collected.status_code == 200, collected.text
        child = wf.client.get_workflow_handle(f"shipment-{sid}")
        await child.cancel()
        await push(wf, sid, waybill, TrackingState.COLLECTED, TrackingState.DELIVERED)
        parcel = await child.result()
        final = await handle.result()
        bookings = (await http.get(f"{wf.urls['carriers']}/admin/waybills")).json()["waybills"]
        wms_orders = (await http.get(f"{wf.urls['wms']}/admin/orders")).json()["orders"]
        ledger = (await http.get(f"{wf.urls['payments']}/admin/ledger")).json()
    assert parcel["status"] == ShipmentStatus.DELIVERED
    assert final.status == OrderStatus.COMPLETED
    [booking] = [b for b in bookings.values() if b["waybill"] == waybill]
    assert booking["cancelled"] is False and booking["protocol"] in ("sf", "zto")
    assert wms_orders[sid]["status"] != "CANCELED"
    assert list(ledger["trades"]) == [order.order_id]
