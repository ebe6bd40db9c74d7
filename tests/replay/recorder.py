"""Recording workflow histories for the replay test: which workflows a test started (a
client interceptor, since the time-skipping server cannot list them), their children (from
the parents' histories), and each history written as Temporal's own JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowInput

HISTORIES = Path(__file__).parent / "histories"
CHILD_STARTED = EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED


class StartedWorkflows(Interceptor):
    """Remembers the id of every workflow started through the client it is given to."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Remember(next, self.ids)


class _Remember(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, ids: list[str]) -> None:
        super().__init__(next)
        self._ids = ids

    async def start_workflow(self, input: StartWorkflowInput) -> Any:
        if input.id not in self._ids:
            self._ids.append(input.id)
        return await super().start_workflow(input)


def recording_client(client: Client, started: StartedWorkflows) -> Client:
    config = client.config()
    config["interceptors"] = [*config["interceptors"], started]
    return Client(**config)


def file_name(scenario: str, workflow_id: str) -> str:
    return f"{scenario}--{re.sub(r'[^A-Za-z0-9_.-]+', '_', workflow_id)}.json"


async def save_histories(client: Client, roots: list[str], scenario: str,
                         out: Path = HISTORIES) -> list[Path]:
    """Every history reachable from `roots` through child workflows, as `<scenario>--<id>.json`;
    a scenario recorded again replaces its files."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{scenario}--*.json"):
        old.unlink()
    queue, written = list(roots), []
    for workflow_id in queue:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            if event.event_type == CHILD_STARTED:
                child = event.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id
                if child not in queue:
                    queue.append(child)
        path = out / file_name(scenario, workflow_id)
        path.write_text(history.to_json(), encoding="utf-8")
        written.append(path)
    return written
