"""The Temporal schedules of inventory upkeep: reconciliation with the WMS and rebalancing.

`ensure_schedules` creates them, or updates them to the current settings if they exist, so
it is safe on every start (`ordo up`, `ordo inventory schedule`). Overlapping runs are
skipped: a slow reconciliation is never run twice at once.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config import queues
from config.settings import Settings
from domain.stock_messages import ReconcileRequest
from workflows.inventory import RebalanceWorkflow, ReconcileWorkflow

RECONCILE = "ordo-inventory-reconcile"
REBALANCE = "ordo-inventory-rebalance"


def schedules(settings: Settings) -> dict[str, Schedule]:
    policy = SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)
    return {
        RECONCILE: Schedule(
            action=ScheduleActionStartWorkflow(
                ReconcileWorkflow.run,
                ReconcileRequest(confirm_seconds=settings.reconcile_confirm_seconds,
                                 alert_units=settings.drift_alert_units),
                id="inventory-reconcile", task_queue=queues.ORDERS),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(
                minutes=settings.reconcile_every_minutes))]),
            policy=policy,
            state=ScheduleState(note="compare WMS snapshots with the ledger; correct drift seen twice"),
        ),
        REBALANCE: Schedule(
            action=ScheduleActionStartWorkflow(
                RebalanceWorkflow.run, id="inventory-rebalance", task_queue=queues.ORDERS),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(
                minutes=settings.rebalance_every_minutes))]),
            policy=policy,
            state=ScheduleState(note="move stock to regions with backorders (rules/transfers.yaml)"),
        ),
    }


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    wanted = schedules(settings)
    for schedule_id, schedule in wanted.items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:
            def replace(_: ScheduleUpdateInput, new: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(schedule_id).update(replace)
    return sorted(wanted)
