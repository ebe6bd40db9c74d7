"""Money and compensation paths against the real simulators (issue 13: gaps no test covered).
The cancellation while a carrier's answer is outstanding is in tests/e2e/test_stack.py: it
needs Updates delivered at once, which the time-skipping test server does not do for a
workflow waiting on a child (it holds them until the workflow's next task)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from activities.payments import PaymentActivities
from config import queues
from domain.messages import OperatorNote, PaymentResult
from domain.returns import ReturnRequest, ReturnStatus, return_workflow_id
from domain.status import OrderStatus
from store import returns as return_store
from tests.factories import make_order
from tests.harness import wait_until
from tests.workflow.conftest import WorkflowStack
from tests.workflow.test_lifecycle import deliver_all, ledger, start, status_is, update
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow


async def admin(wf: WorkflowStack, sim: str, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        answer: dict[str, Any] = (await http.get(f"{wf.urls[sim]}/admin/{path}")).json()
        return answer


def authorisation_of(book: dict[str, Any], order_id: str) -> dict[str, Any] | None:
    return next((a for a in book["auths"].values() if a["out_order_no"] == order_id), None)


async def test_a_capture_the_gateway_refuses_holds_the_order_for_an_operator_and_charges_nothing(
    wf: WorkflowStack,
) -> None:
    """The authorisation is gone by the time the goods are delivered (voided at the gateway by
    someone else): the capture is refused, the exception rules hold the order for an operator,
    nothing is charged, and releasing it tries the capture again rather than completing."""
    order = make_order("capture-refused", [("COKE-330-24", 1)])
    handle = await start(wf, order)
    await wait_until(lambda: status_is(handle, OrderStatus.SHIPPED), "the parcel's waybill")
    authorised = authorisation_of(await ledger(wf), order.order_id)
    assert authorised is not None
    async with httpx.AsyncClient() as http:
        await PaymentActivities(http, wf.settings).void(PaymentResult(
            order_id=order.order_id, reference=authorised["auth_no"], amount=Decimal(authorised["amount"]),
            state="authorised"))
    await deliver_all(wf, handle, expected_parcels=1)
    held = await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "the capture refusal")
    assert held.exception_type == "capture_failed" and "no live authorisation" in held.exception_reason
    assert (await ledger(wf))["trades"] == {}
    await update(handle, "release", OperatorNote(reason="customer will pay by transfer"))

    async def asked_twice() -> bool:
        state = await handle.query(OrderWorkflow.status)
        asked = [d for d in state.decisions if d.key.endswith(":exception:capture_failed")]
        return len(asked) == 2 and state.status == OrderStatus.AWAITING_OPERATOR
    await wait_until(asked_twice, "the capture to be tried again and refused again")
    assert (await ledger(wf))["trades"] == {}


@pytest.mark.records("shipment-every-carrier-refuses")
async def test_the_wms_order_is_cancelled_when_every_carrier_refuses_the_parcel(wf: WorkflowStack) -> None:
    order = make_order("no-carrier", [("COKE-330-24", 1)], street="UNDELIVERABLE 9号")
    parcel = f"{order.order_id}-p1"
    handle = await start(wf, order)
    await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "every carrier to refuse")
    wms_order = (await admin(wf, "wms", "orders"))["orders"][parcel]
    assert wms_order["status"] == "CANCELED"
    assert not [w for w in (await admin(wf, "carriers", "waybills"))["waybills"].values()
                if w["orderId"] == parcel]


async def test_a_return_asked_past_its_window_is_refused_by_the_workflow(wf: WorkflowStack) -> None:
    """The window is the workflow's arithmetic (delivery date to now) feeding the rules: a
    change of mind ten days after delivery is refused, three days after it is approved."""
    order = make_order("late-return", [("TSHIRT-M", 2)])
    handle = await start(wf, order)
    await deliver_all(wf, handle, expected_parcels=1)
    assert (await handle.result()).status == OrderStatus.COMPLETED
    outcomes = {}
    for days in (10, 3):
        req = ReturnRequest.model_validate({"request_id": f"late-{days}", "lines": [
            {"sku": "TSHIRT-M", "quantity": 1, "reason": "changed_mind", "condition": "unopened"}]})
        units, _, _ = await return_store.delivered_units(wf.db, order.order_id)
        rma, created, errors = await return_store.create(wf.db, order.order_id, req, units)
        assert created and not errors, errors
        case = await return_store.case_for(wf.db, rma, order.order_id, req)
        delivered_at = await wf.env.get_current_time() - timedelta(days=days, hours=1)
        ret = await wf.client.start_workflow(
            ReturnWorkflow.run, case.model_copy(update={"delivered_at": delivered_at}),
            id=return_workflow_id(rma), task_queue=queues.ORDERS)

        async def decided() -> Any:
            state = await ret.query(ReturnWorkflow.status)  # noqa: B023
            return state if state.lines and state.lines[0].decision else None
        state = await wait_until(decided, f"the return {days} days after delivery to be decided")
        outcomes[days] = (state.lines[0].decision, state.lines[0].why, state.status)
        if days == 10:
            assert (await ret.result()).status == ReturnStatus.REJECTED
    assert outcomes[10][0] == "reject" and "window" in outcomes[10][1]
    assert outcomes[3][0] == "approve" and outcomes[3][2] != ReturnStatus.REJECTED
