"""Timeouts and retry policies shared by the workflows.

Remote calls retry forever with capped backoff (an outage should delay an order, not
lose it); business failures are non-retryable ApplicationErrors and stop at once.
"""

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

LOCAL: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(milliseconds=200),
                                maximum_interval=timedelta(seconds=10)),
}
REMOTE: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(milliseconds=300),
                                backoff_coefficient=2.0,
                                maximum_interval=timedelta(seconds=30)),
}
