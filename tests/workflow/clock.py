"""Skipping the test server's clock without starting child workflows inside a skip.

A skip (`env.sleep`) during which a workflow starts a child can leave the time-skipping
server's clock wedged (sdk-java #2392, open); one did in CI and the run hung until it was
killed. A test that expects a timer to start children skips to a few seconds before the
timer and lets the clock, which runs at its own pace between skips, fire it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

MARGIN = timedelta(seconds=3)


async def skip_to_just_before(env: WorkflowEnvironment, when: datetime) -> None:
    gap = when - await env.get_current_time() - MARGIN
    if gap > timedelta(0):
        await env.sleep(gap)


async def result_of(handle: WorkflowHandle[Any, Any], attempts: int = 5) -> Any:
    """The workflow's result, asked again when the time-skipping server's history long-poll
    comes back empty (the SDK then raises "No completion event found"; seen once in CI while
    a cancelled parcel ran its compensations on a loaded machine). Any other error, and
    the same one `attempts` times running, is raised."""
    for attempt in range(attempts):
        try:
            return await handle.result()
        except RuntimeError as error:
            if "No completion event found" not in str(error) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
