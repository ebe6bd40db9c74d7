"""Returns on the time-skipping server, each path: rejected, refunded after restocking,
exchanged for a linked replacement, partial returns line by line across parcels, an
operator's review, a refund without sending back, and a return that never arrives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowHandle

from config import queues
from domain.messages import OrderState
from domain.model import Order, workflow_id_for
from domain.returns import (
    Inspection,
    ReturnApproval,
    ReturnReceipt,
    ReturnRequest,
    ReturnState,
    ReturnStatus,
    return_workflow_id,
)
from domain.status import OrderStatus
from store import returns as return_store
from store.inventory import stock_row
from store.ledger import availability
from tests.factories import make_order
from tests.harness import serve_app, wait_until
from tests.workflow.conftest import WorkflowStack
from tests.workflow.test_lifecycle import deliver_all, start
from tests.workflow.test_shipping import best_by_the_rules, booked
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow


async def delivered(wf: WorkflowStack, order: Order, parcels: int = 1) -> None:
    handle = await start(wf, order)
    await deliver_all(wf, handle, expected_parcels=parcels)
    assert (await handle.result()).status == OrderStatus.COMPLETED


async def ask(
    wf: WorkflowStack, order: Order, body: dict[str, Any]
) -> WorkflowHandle[ReturnWorkflow, ReturnState]:
    """What `POST /v1/orders/{id}/returns` does: check, record the RMA, start its workflow."""
    req = ReturnRequest.model_validate(
        {"request_id": f"t-{len(body['lines'])}-{body['lines'][0]['sku']}", **body}
    )
    units, _, _ = await return_store.delivered_units(wf.db, order.order_id)
    rma, created, errors = await return_store.create(wf.db, order.order_id, req, units)
    assert created and not errors, errors
    case = await return_store.case_for(wf.db, rma, order.order_id, req)
    assert case.delivered_at is not None
    # While a test awaits an order's result the time-skipping server may jump its clock far
    # ahead (years, seen under load), so "days since delivery" would be arbitrary: these tests
    # are about the paths, and the windows are tested by the rules' examples.
    case = case.model_copy(update={"delivered_at": await wf.env.get_current_time()})
    return await wf.client.start_workflow(
        ReturnWorkflow.run, case, id=return_workflow_id(rma), task_queue=queues.ORDERS
    )


async def in_status(
    handle: WorkflowHandle[ReturnWorkflow, ReturnState], *wanted: ReturnStatus
) -> ReturnState | None:
    state = await handle.query(ReturnWorkflow.status)
    if state.status in wanted:
        return state
    assert state.status in (
        ReturnStatus.REQUESTED,
        ReturnStatus.AWAITING_OPERATOR,
        ReturnStatus.AWAITING_GOODS,
    ), f"return went to {state.status}: {state.notes} {[d.facts for d in state.decisions]}"
    return None


async def ledger(wf: WorkflowStack, name: str) -> Any:
    async with httpx.AsyncClient() as http:
        return (
            await http.get(f"{wf.urls[name]}/admin/{'ledger' if name == 'payments' else 'waybills'}")
        ).json()


async def defective(wf: WorkflowStack, sku: str, warehouse: str) -> int:
    return next(lv.defective for lv in await availability(wf.db, sku) if lv.warehouse == warehouse)


async def test_a_change_of_mind_on_frozen_food_is_rejected_without_a_label(wf: WorkflowStack) -> None:
    order = make_order("ret-rej", [("DUMPLING-1KG", 2)])
    await delivered(wf, order)
    handle = await ask(
        wf, order, {"lines": [{"sku": "DUMPLING-1KG", "quantity": 1, "reason": "changed_mind"}]}
    )
    state = await handle.result()
    assert state.status == ReturnStatus.REJECTED
    assert state.lines[0].decision == "reject" and "perishable" in state.lines[0].why
    assert not [k for k in (await ledger(wf, "carriers"))["waybills"] if ":R-" in k]
    assert (await ledger(wf, "payments"))["refunds"] == {}


async def test_a_refund_follows_the_label_the_receipt_and_the_restock(wf: WorkflowStack) -> None:
    order = make_order("ret-ref", [("COKE-330-24", 2)])
    await delivered(wf, order)
    warehouse = (await return_store.delivered_units(wf.db, order.order_id))[1]["COKE-330-24"]["warehouse"]
    before = await stock_row(wf.db, "COKE-330-24", warehouse)
    handle = await ask(
        wf,
        order,
        {"lines": [{"sku": "COKE-330-24", "quantity": 1, "reason": "changed_mind", "condition": "unopened"}]},
    )
    waiting = await wait_until(lambda: in_status(handle, ReturnStatus.AWAITING_GOODS), "the return label")
    assert (
        waiting.label_waybill
        and f"{waiting.label_carrier}:R-{waiting.rma}" in (await ledger(wf, "carriers"))["waybills"]
    )
    [label] = [d for d in waiting.decisions if d.ruleset == "carriers"]
    assert label.facts["direction"] == "return" and label.fired == ["return-label-cheapest"]
    assert waiting.label_carrier == booked(waiting.bookings, label).carrier == best_by_the_rules(label)[0]
    async with httpx.AsyncClient() as http:
        expected = (await http.get(f"{wf.urls['wms']}/admin/orders")).json()["returns"][waiting.rma]
    assert expected["type"] == "THRK" and expected["warehouse"] == warehouse
    receipt = ReturnReceipt(
        out_biz_code="x",
        warehouse=warehouse,
        lines=[Inspection(sku="COKE-330-24", quantity=1, grade="restock")],
    )
    await handle.signal(ReturnWorkflow.received, receipt)
    await handle.signal(ReturnWorkflow.received, receipt)  # the WMS sends its confirmation again
    state = await handle.result()
    assert state.status == ReturnStatus.REFUNDED
    assert state.refund is not None and state.refund.amount == Decimal(
        "59.00"
    )  # not the shipping: half the order
    assert await stock_row(wf.db, "COKE-330-24", warehouse) == (before[0] + 1, before[1])
    refunds = (await ledger(wf, "payments"))["refunds"]
    assert list(refunds) == [state.rma] and refunds[state.rma]["send_back_fee"] == "59.00"
    stored = await return_store.get(wf.db, state.rma)
    assert stored is not None and stored.status == "refunded"


async def test_a_platinum_members_return_label_keeps_the_carrier_rules(wf: WorkflowStack) -> None:
    """Return labels are chosen by rules/carriers.yaml like outbound parcels: cheapest, but
    a platinum member's parcel still goes by SF or JD, though ZTO would be cheaper."""
    order = make_order("ret-plat", [("COKE-330-24", 1)], tier="platinum")
    await delivered(wf, order)
    warehouse = (await return_store.delivered_units(wf.db, order.order_id))[1]["COKE-330-24"]["warehouse"]
    handle = await ask(
        wf,
        order,
        {"lines": [{"sku": "COKE-330-24", "quantity": 1, "reason": "changed_mind", "condition": "unopened"}]},
    )
    waiting = await wait_until(lambda: in_status(handle, ReturnStatus.AWAITING_GOODS), "the return label")
    [label] = [d for d in waiting.decisions if d.ruleset == "carriers"]
    assert label.fired == ["return-label-cheapest", "platinum-premium-carriers"]
    cheapest_of_all = min(
        (q for q in label.facts["quotes"] if q["eligible"]), key=lambda q: (Decimal(q["fee"]), q["carrier"])
    )
    assert cheapest_of_all["carrier"] == "zto"
    assert waiting.label_carrier == best_by_the_rules(label)[0]
    assert waiting.label_carrier in ("sf", "jd")
    await handle.signal(
        ReturnWorkflow.received,
        ReturnReceipt(
            out_biz_code="p",
            warehouse=warehouse,
            lines=[Inspection(sku="COKE-330-24", quantity=1, grade="restock")],
        ),
    )
    assert (await handle.result()).status == ReturnStatus.REFUNDED


@pytest.mark.records("return-exchange")
async def test_an_exchange_starts_a_linked_replacement_that_is_not_charged(wf: WorkflowStack) -> None:
    order = make_order("ret-xch", [("COKE-330-24", 1)])
    await delivered(wf, order)
    handle = await ask(
        wf,
        order,
        {"lines": [{"sku": "COKE-330-24", "quantity": 1, "reason": "size_fit"}], "resolution": "exchange"},
    )
    waiting = await wait_until(lambda: in_status(handle, ReturnStatus.AWAITING_GOODS), "the return label")
    await handle.signal(
        ReturnWorkflow.received,
        ReturnReceipt(
            out_biz_code="x",
            warehouse="SH-01",
            lines=[Inspection(sku="COKE-330-24", quantity=1, grade="restock")],
        ),
    )
    state = await handle.result()
    assert state.status == ReturnStatus.EXCHANGED and state.refund is None
    assert state.replacement_order_id == f"{order.order_id}-x{waiting.rma.rsplit('-', 1)[1]}"
    replacement: WorkflowHandle[OrderWorkflow, OrderState] = wf.client.get_workflow_handle(
        workflow_id_for(state.replacement_order_id), result_type=OrderState
    )
    await deliver_all(wf, replacement, expected_parcels=1)
    done = await replacement.result()
    assert done.status == OrderStatus.COMPLETED
    payments = await ledger(wf, "payments")
    assert f"{state.replacement_order_id}-auth" not in payments["auths"] and payments["refunds"] == {}


@pytest.mark.records("return-split-order-partial")
async def test_a_partial_return_of_a_two_parcel_order_is_decided_and_refunded_line_by_line(
    wf: WorkflowStack,
) -> None:
    order = make_order("ret-part", [("COKE-330-24", 2), ("DUMPLING-1KG", 1)])
    await delivered(wf, order, parcels=3)  # frozen apart; the two cases from two warehouses
    warehouse = (await return_store.delivered_units(wf.db, order.order_id))[1]["COKE-330-24"]["warehouse"]
    handle = await ask(
        wf,
        order,
        {
            "lines": [
                {"sku": "COKE-330-24", "quantity": 1, "reason": "changed_mind", "condition": "opened"},
                {
                    "sku": "DUMPLING-1KG",
                    "quantity": 1,
                    "reason": "damaged_in_transit",
                    "condition": "damaged",
                },
            ]
        },
    )
    await wait_until(lambda: in_status(handle, ReturnStatus.AWAITING_GOODS), "the return label")
    before = await stock_row(wf.db, "COKE-330-24", warehouse)
    defective_before = await defective(wf, "COKE-330-24", warehouse)
    await handle.signal(
        ReturnWorkflow.received,
        ReturnReceipt(
            out_biz_code="x",
            warehouse=warehouse,
            lines=[
                Inspection(sku="COKE-330-24", quantity=1, grade="refurbish"),
                Inspection(sku="DUMPLING-1KG", quantity=1, grade="dispose"),
            ],
        ),
    )
    state = await handle.result()
    by_sku = {ln.sku: ln for ln in state.lines}
    assert by_sku["COKE-330-24"].refund_percent == 80  # opened after a change of mind: refurbishing kept
    assert by_sku["DUMPLING-1KG"].refund_percent == 100  # our fault, refunded in full
    assert state.refund is not None and state.refund.amount == Decimal("47.20") + Decimal("39.90")
    assert not state.refund_shipping
    assert await stock_row(wf.db, "COKE-330-24", warehouse) == before  # nothing sellable came back
    assert await defective(wf, "COKE-330-24", warehouse) == defective_before + 1  # held for refurbishing
    units, _, _ = await return_store.delivered_units(wf.db, order.order_id)
    more = ReturnRequest.model_validate(
        {"lines": [{"sku": "COKE-330-24", "quantity": 2, "reason": "changed_mind"}], "request_id": "too-many"}
    )
    _, created, errors = await return_store.create(wf.db, order.order_id, more, units)
    assert not created and errors[0].field == "lines[0].quantity" and "only 1 of 2" in errors[0].reason


@pytest.mark.records("return-reviewed")
async def test_a_high_value_return_waits_for_an_operator(wf: WorkflowStack) -> None:
    order = make_order("ret-rev", [("PHONE-X1", 1)])
    await delivered(wf, order)
    handle = await ask(wf, order, {"lines": [{"sku": "PHONE-X1", "quantity": 1, "reason": "defective"}]})
    held = await wait_until(lambda: in_status(handle, ReturnStatus.AWAITING_OPERATOR), "the review")
    assert "high-value" in held.notes[-1]
    answer = await handle.execute_update(
        "review", ReturnApproval(approve=True, reason="photos show a crack"), result_type=ReturnState
    )
    assert answer.lines[0].decision == "approve" and "photos show a crack" in answer.lines[0].why
    after = await wait_until(lambda: in_status(handle, ReturnStatus.AWAITING_GOODS), "the return label")
    assert after.refund_shipping  # our fault and the whole order: the shipping fee comes back too
    await handle.signal(
        ReturnWorkflow.received,
        ReturnReceipt(
            out_biz_code="x",
            warehouse="SH-01",
            lines=[Inspection(sku="PHONE-X1", quantity=1, grade="refurbish")],
        ),
    )
    state = await handle.result()
    assert state.refund is not None and state.refund.amount == order.total  # goods and shipping


async def test_a_cheap_faulty_item_is_refunded_without_being_sent_back(wf: WorkflowStack) -> None:
    order = make_order("ret-keep", [("NOODLE-5PK", 2)], unit_prices={"NOODLE-5PK": Decimal("16.90")})
    await delivered(wf, order)
    handle = await ask(
        wf,
        order,
        {
            "lines": [
                {"sku": "NOODLE-5PK", "quantity": 1, "reason": "damaged_in_transit", "condition": "damaged"}
            ]
        },
    )
    state = await handle.result()
    assert state.status == ReturnStatus.REFUNDED and state.label_waybill == ""
    assert state.refund is not None and state.refund.amount == Decimal("16.90")


async def test_a_return_that_never_arrives_is_closed_without_a_refund(wf: WorkflowStack) -> None:
    order = make_order("ret-exp", [("COKE-330-24", 1)])
    await delivered(wf, order)
    handle = await ask(
        wf, order, {"lines": [{"sku": "COKE-330-24", "quantity": 1, "reason": "changed_mind"}]}
    )
    await wait_until(lambda: in_status(handle, ReturnStatus.AWAITING_GOODS), "the return label")
    await wf.env.sleep(timedelta(days=15))
    state = await handle.result()
    assert state.status == ReturnStatus.EXPIRED and state.refund is None
    assert (await ledger(wf, "payments"))["refunds"] == {}


async def test_the_wms_confirmation_books_sellable_units_before_the_workflow_hears_of_it(
    wf: WorkflowStack,
) -> None:
    """The ledger moves when the warehouse's count does: a reconciliation between the WMS's
    confirmation and the workflow's turn would otherwise see drift and "correct" it, and the
    workflow's own booking would then count the units twice. The return's workflow here is
    on a queue nobody polls, so whatever is booked is the API's doing."""
    from api.app import create_app
    from domain.wire import qimen
    from store import orders as order_store

    order = make_order("ret-wms-1", [("COKE-330-24", 2)])
    await order_store.save_order(wf.db, order)
    req = ReturnRequest.model_validate(
        {"request_id": "wms-1", "lines": [{"sku": "COKE-330-24", "quantity": 1, "reason": "changed_mind"}]}
    )
    rma, created, errors = await return_store.create(wf.db, order.order_id, req, {"COKE-330-24": 2})
    assert created and not errors
    await wf.client.start_workflow(
        "ReturnWorkflow", {}, id=return_workflow_id(rma), task_queue="nobody-polls"
    )

    def confirmation(code: str) -> tuple[dict[str, str], str]:
        body = qimen.to_xml("request", {
            "returnOrder": {"returnOrderCode": code, "warehouseCode": "SH-01", "orderType": "THRK",
                            "outBizCode": f"{code}-in"},
            "orderLines": [{"itemCode": "COKE-330-24", "planQty": 1, "actualQty": 1, "inventoryType": "ZP"},
                           {"itemCode": "TSHIRT-M", "planQty": 1, "actualQty": 1, "inventoryType": "CC"}]})
        params = {"method": "returnorder.confirm", "app_key": "wms", "v": "2.0", "format": "xml",
                  "sign_method": "md5", "timestamp": "2026-11-28 09:00:00"}
        return {**params, "sign": qimen.sign(params, body, wf.settings.qimen_secret)}, body

    coke, tshirt = await stock_row(wf.db, "COKE-330-24", "SH-01"), await stock_row(wf.db, "TSHIRT-M", "SH-01")
    tshirt_defective = await defective(wf, "TSHIRT-M", "SH-01")
    app = create_app(wf.settings)
    async with serve_app(app) as api, httpx.AsyncClient(base_url=api) as http:
        app.state.services.temporal._client = wf.client  # the time-skipping server's, not a dev server's
        params, body = confirmation(rma)
        first = await http.post("/v1/wms/qimen", params=params, content=body)
        again = await http.post("/v1/wms/qimen", params=params, content=body)
        unknown = await http.post("/v1/wms/qimen", params=confirmation("RMA-nobody")[0],
                                  content=confirmation("RMA-nobody")[1])
    assert first.status_code == again.status_code == 200 and "<flag>success</flag>" in again.text
    assert unknown.status_code == 404 and "Ordo has no return RMA-nobody" in unknown.text
    assert await stock_row(wf.db, "COKE-330-24", "SH-01") == (coke[0] + 1, coke[1])  # once, sent twice
    assert await stock_row(wf.db, "TSHIRT-M", "SH-01") == tshirt  # graded CC: not sellable
    assert await defective(wf, "TSHIRT-M", "SH-01") == tshirt_defective + 1  # but counted, once
    history = await wf.client.get_workflow_handle(return_workflow_id(rma)).fetch_history()
    signals = [e for e in history.events if e.HasField("workflow_execution_signaled_event_attributes")]
    assert len(signals) == 2  # the workflow still hears of it, to refund
