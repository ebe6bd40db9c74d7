"""The order lifecycle on the time-skipping server with real activities and simulators."""

from __future__ import annotations

from temporalio.client import WorkflowHandle

from config import queues
from domain.messages import OrderState, TrackingEvent
from domain.model import Order
from domain.status import OrderStatus, ShipmentStatus
from store.inventory import stock_row
from tests.factories import make_order
from tests.harness import wait_until
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
            await child.signal("tracking", TrackingEvent(waybill_no=waybill, op_code=op))


def _children(state: OrderState) -> list[tuple[str, str]]:
    return [(s.shipment_id, s.waybill_no) for s in state.shipments if s.waybill_no]


async def test_happy_path_reaches_completed_and_consumes_stock(wf: WorkflowStack) -> None:
    order = make_order("happy-1", [("COKE-330-24", 2), ("YOGURT-12", 1)])
    before = await stock_row(wf.db, "COKE-330-24", "SH-01")
    handle = await start(wf, order)
    await deliver_all(wf, handle, expected_parcels=2)
    state = await handle.result()
    assert state.status == OrderStatus.COMPLETED
    assert {s.status for s in state.shipments} == {ShipmentStatus.DELIVERED}
    services = sorted(d.ruleset for d in state.decisions)
    assert services.count("carriers") == 2 and "priority" in services and "split" in services
    after = await stock_row(wf.db, "COKE-330-24", "SH-01")
    assert after == (before[0] - 2, before[1])
