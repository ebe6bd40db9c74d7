"""The Temporal schedules of inventory upkeep: reconciliation with the WMS and rebalancing.

`ensure_schedules` creates them, or updates them to the current settings if they exist, so
it is safe on every start (`ordo up`, `ordo inventory schedule`). Overlapping runs are
skipped: a slow reconciliation is never run twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from temporalio.service import RPCError, RPCStatusCode

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


async def remove_schedules(client: Client) -> None:
    """With ORDO_INVENTORY_SCHEDULES=false nothing runs on its own (tests that set stock
    behind the WMS's back; a WMS that is not the source of truth)."""
    for schedule_id in (RECONCILE, REBALANCE):
        with contextlib.suppress(RPCError):  # not there
            await client.get_schedule_handle(schedule_id).delete()


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    if not settings.inventory_schedules:
        await remove_schedules(client)
        return []
    wanted = schedules(settings)
    for schedule_id, schedule in wanted.items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:
            await _replace(client, schedule_id, schedule)
    return sorted(wanted)


async def _replace(client: Client, schedule_id: str, schedule: Schedule, attempts: int = 20) -> None:
    """A schedule being created a moment ago (or by a retried create) can answer "already
    exists" to a create and "not found" to an update for a short while: try again."""

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    for attempt in range(attempts):
        try:
            await client.get_schedule_handle(schedule_id).update(replace)
            return
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND or attempt == attempts - 1:
                raise
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))  # about 30 s in all
