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
    from activities.errors import WMS_REJECTED
    from activities.inventory import InventoryActivities
    from activities.wms import WmsActivities
    from config import queues
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
    )
    from workflows.failures import business_failure
    from workflows.options import LOCAL, REMOTE


def transfer_workflow_id(transfer_id: str) -> str:
    return f"transfer-{transfer_id}"


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
        booked = await workflow.execute_local_activity_method(
            InventoryActivities.dispatch_transfer, req, **LOCAL)
        if booked != "in_transit":
            return TransferResult(transfer_id=req.transfer_id, status="refused", reason=booked)
        try:
            await workflow.execute_activity_method(WmsActivities.transfer, req, task_queue=queues.WMS,
                                                   **REMOTE)
        except (ActivityError, ApplicationError) as err:
            cause = business_failure(err, WMS_REJECTED)
            if cause is None:
                raise
            await workflow.execute_local_activity_method(
                InventoryActivities.cancel_transfer,
                TransferCancel(transfer_id=req.transfer_id, reason=cause.message), **LOCAL)
            return TransferResult(transfer_id=req.transfer_id, status="refused", reason=cause.message)
        while self.arrival is None:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self.arrival is not None,
                                              timeout=timedelta(hours=req.overdue_hours))
            if self.arrival is None:
                await workflow.execute_local_activity_method(
                    InventoryActivities.alert,
                    InventoryAlert(kind="transfer_overdue", sku=req.sku, warehouse=req.to_warehouse,
                                   detail=f"transfer {req.transfer_id} of {req.quantity} from "
                                          f"{req.from_warehouse} not received after {req.overdue_hours:g} h"),
                    **LOCAL)
        received = self.arrival.received
        await workflow.execute_local_activity_method(
            InventoryActivities.receive_transfer,
            TransferReceipt(transfer_id=req.transfer_id, received=received), **LOCAL)
        waiting = await workflow.execute_local_activity_method(
            InventoryActivities.backordered_orders, SkuRequest(sku=req.sku), **LOCAL)
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
        warehouses = await workflow.execute_local_activity_method(InventoryActivities.warehouse_codes,
                                                                  **LOCAL)
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
            result = await workflow.execute_local_activity_method(
                InventoryActivities.correct_stock,
                CorrectionRequest(run_id=workflow.info().run_id, differences=confirmed,
                                  alert_units=req.alert_units),
                **LOCAL)
            report.corrected, report.refused, report.alerts = result.corrected, result.refused, result.alerts
        return report

    async def _compare(self, warehouses: list[str]) -> Differences:
        snapshot = await workflow.execute_activity_method(
            WmsActivities.snapshot, SnapshotRequest(warehouses=warehouses), task_queue=queues.WMS, **REMOTE)
        return await workflow.execute_local_activity_method(
            InventoryActivities.stock_differences,
            DifferencesRequest(snapshot=snapshot, warehouses=warehouses), **LOCAL)


@workflow.defn
class RebalanceWorkflow:
    """Ask the transfer rules about every SKU and region with backordered orders and start a
    TransferWorkflow for each transfer they call for (they outlive this run)."""

    @workflow.run
    async def run(self) -> RebalanceReport:
        report = await workflow.execute_local_activity_method(
            InventoryActivities.plan_rebalance, RebalanceRequest(run_id=workflow.info().run_id), **LOCAL)
        for tr in report.transfers:
            await workflow.start_child_workflow(
                TransferWorkflow.run, tr, id=transfer_workflow_id(tr.transfer_id), task_queue=queues.ORDERS,
                parent_close_policy=ParentClosePolicy.ABANDON)
        return report
