"""Skipping the test server's clock without starting child workflows inside a skip.

A skip (`env.sleep`) during which a workflow starts a child can leave the time-skipping
server's clock wedged (sdk-java #2392, open); one did in CI and the run hung until it was
killed. A test that expects a timer to start children skips to a few seconds before the
timer and lets the clock, which runs at its own pace between skips, fire it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

MARGIN = timedelta(seconds=3)


async def skip_to_just_before(env: WorkflowEnvironment, when: datetime) -> None:
    gap = when - await env.get_current_time() - MARGIN
    if gap > timedelta(0):
        await env.sleep(gap)
