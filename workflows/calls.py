"""Call an activity by its contract: the workflow names what it needs (`store.DECIDE`) and
gets the contract's output type back, without importing the code that does it.

Local activities get the local timeouts and retries, remote ones the remote options on
their contract's task queue; `options` override either for one call.
"""

from __future__ import annotations

from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts.base import Activity
    from workflows.options import LOCAL, REMOTE

In = TypeVar("In")
Out = TypeVar("Out")


async def run(contract: Activity[In, Out], arg: In, **options: Any) -> Out:
    args = [] if contract.input is type(None) else [arg]
    if contract.local:
        result = await workflow.execute_local_activity(
            contract.name, args=args, result_type=contract.output, **{**LOCAL, **options})
    else:
        result = await workflow.execute_activity(
            contract.name, args=args, result_type=contract.output, task_queue=contract.queue,
            **{**REMOTE, **options})
    return result  # type: ignore[no-any-return]
