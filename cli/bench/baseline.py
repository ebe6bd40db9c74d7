"""The benchmark's baseline: a bare workflow running N no-op remote activities in a row.

It costs what Temporal itself costs for an order with the same number of steps, so the
benchmark can report Ordo's throughput as a ratio that survives a noisy machine.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="baseline_noop")
async def noop(step: int) -> int:
    return step


@workflow.defn
class BaselineWorkflow:
    @workflow.run
    async def run(self, steps: int) -> int:
        for i in range(steps):
            await workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
        return steps
