"""Inventory workflows: a transfer between warehouses, the scheduled reconciliation with the
WMS, and the scheduled rebalancing that starts transfers when the rules say a region is low.

They run on the orders queue (their database steps are local activities there) and call the
WMS through the wms queue, like the order workflows.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import inventory, wms
    from config import queues
    from domain.exceptions import ExceptionKind
    from domain.model import workflow_id_for
    from domain.stock_messages import (
        CorrectionRequest,
        Differences,
        DifferencesRequest,
        InventoryAlert,
        RebalanceReport,
        RebalanceRequest,
        ReconcileReport,
        ReconcileRequest,
        SkuRequest,
        SnapshotRequest,
        TransferArrival,
        TransferCancel,
        TransferReceipt,
        TransferRequest,
        TransferResult,
        transfer_workflow_id,
    )
    from workflows.calls import run
    from workflows.failures import business_failure


@workflow.defn
class TransferWorkflow:
    """Book the stock out (it shows as in transit at the destination, never reservable), ask
    the WMS to move it, wait for its receipt confirmation, book it in, and resume the orders
    backordered on that SKU. An overdue transfer raises an alert and keeps waiting."""

    def __init__(self) -> None:
        self.arrival: TransferArrival | None = None

    @workflow.signal(name="arrived")
    def arrived(self, arrival: TransferArrival) -> None:
        self.arrival = arrival

    @workflow.run
    async def run(self, req: TransferRequest) -> TransferResult:
        booked = await run(inventory.DISPATCH_TRANSFER, req)
        if booked != "in_transit":
            return TransferResult(transfer_id=req.transfer_id, status="refused", reason=booked)
        try:
            await run(wms.TRANSFER, req)
        except (ActivityError, ApplicationError) as err:
            cause = business_failure(err, ExceptionKind.WMS_REJECTED)
            if cause is None:
                raise
            await run(
                inventory.CANCEL_TRANSFER, TransferCancel(transfer_id=req.transfer_id, reason=cause.message))
            return TransferResult(transfer_id=req.transfer_id, status="refused", reason=cause.message)
        while self.arrival is None:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self.arrival is not None,
                                              timeout=timedelta(hours=req.overdue_hours))
            if self.arrival is None:
                await run(
                    inventory.ALERT,
                    InventoryAlert(
                        kind="transfer_overdue", sku=req.sku, warehouse=req.to_warehouse,
                        detail=f"transfer {req.transfer_id} of {req.quantity} from "
                               f"{req.from_warehouse} not received after {req.overdue_hours:g} h"))
        received = self.arrival.received
        await run(inventory.RECEIVE_TRANSFER, TransferReceipt(transfer_id=req.transfer_id, received=received))
        waiting = await run(inventory.BACKORDERED_ORDERS, SkuRequest(sku=req.sku))
        resumed = []
        for order_id in waiting:  # most urgent first; a finished order just misses the signal
            with contextlib.suppress(ApplicationError):
                await workflow.get_external_workflow_handle(workflow_id_for(order_id)).signal("restock")
                resumed.append(order_id)
        return TransferResult(transfer_id=req.transfer_id, status="received", received=received,
                              resumed=resumed)


@workflow.defn
class ReconcileWorkflow:
    """Compare the WMS's snapshot with the ledger twice, `confirm_seconds` apart, and correct
    only the differences seen both times with the same size: stock in motion between the
    two systems shows once, drift stays."""

    @workflow.run
    async def run(self, req: ReconcileRequest) -> ReconcileReport:
        warehouses = await run(inventory.WAREHOUSE_CODES, None)
        first = await self._compare(warehouses)
        report = ReconcileReport(checked=first.checked, seen=len(first.differences), transient=0)
        if not first.differences:
            return report
        await workflow.sleep(timedelta(seconds=req.confirm_seconds))
        second = await self._compare(warehouses)
        before = {(d.sku, d.warehouse, d.inventory_type, d.delta) for d in first.differences}
        confirmed = [d for d in second.differences
                     if (d.sku, d.warehouse, d.inventory_type, d.delta) in before]
        report.transient = len(first.differences) - len(confirmed)
        if confirmed:
            result = await run(
                inventory.CORRECT_STOCK,
                CorrectionRequest(
                    run_id=workflow.info().run_id, differences=confirmed, alert_units=req.alert_units))
            report.corrected, report.refused, report.alerts = result.corrected, result.refused, result.alerts
        return report

    async def _compare(self, warehouses: list[str]) -> Differences:
        snapshot = await run(wms.SNAPSHOT, SnapshotRequest(warehouses=warehouses))
        return await run(
            inventory.STOCK_DIFFERENCES, DifferencesRequest(snapshot=snapshot, warehouses=warehouses))


@workflow.defn
class RebalanceWorkflow:
    """Ask the transfer rules about every SKU and region with backordered orders and start a
    TransferWorkflow for each transfer they call for (they outlive this run)."""

    @workflow.run
    async def run(self) -> RebalanceReport:
        report = await run(inventory.PLAN_REBALANCE, RebalanceRequest(run_id=workflow.info().run_id))
        for tr in report.transfers:
            await workflow.start_child_workflow(
                TransferWorkflow.run, tr, id=transfer_workflow_id(tr.transfer_id), task_queue=queues.ORDERS,
                parent_close_policy=ParentClosePolicy.ABANDON)
        return report
