"""Histories recorded by earlier code (tests/replay/histories, `python -m tests.replay.record`)
replay against the current workflows: a change that would break a workflow in flight fails
here, in CI, before it reaches a worker. See README "Versioning"."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from config.settings import Settings
from config.temporal import workflow_runner
from tests.replay.recorder import HISTORIES
from worker import WORKFLOWS
from workflows import versions

pytestmark = pytest.mark.workflow
FILES = sorted(HISTORIES.glob("*.json"))
PATCHES = [v for k, v in vars(versions).items() if k.isupper() and isinstance(v, str)]


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.name.split("--", 1)[1].removesuffix(".json"),
                                     path.read_text(encoding="utf-8"))


def patches_in(history: WorkflowHistory) -> set[str]:
    return {json.loads(p.data)["id"] for e in history.events
            if e.marker_recorded_event_attributes.marker_name == "core_patch"
            for p in e.marker_recorded_event_attributes.details["patch-data"].payloads}


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


@pytest.mark.parametrize("sandbox", ["strict", "off"])
async def test_every_recorded_history_replays_on_the_current_code(sandbox: str) -> None:
    """In the strict sandbox (which also refuses a non-deterministic call) and without one,
    as production runs the workflows (`ORDO_WORKFLOW_SANDBOX=off`, issue 16)."""
    replayer = Replayer(workflows=[w for ws in WORKFLOWS.values() for w in ws],
                        data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner(Settings(workflow_sandbox=sandbox)))
    failures = []
    for path in FILES:
        result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(f"{path.name}: {result.replay_failure}")
    assert not failures, "\n".join(failures)


def test_the_recordings_cover_every_workflow_type_and_the_events_that_break_replays() -> None:
    histories = [load(p) for p in FILES]
    types = {workflow_type(h) for h in histories}
    assert types == {w.__name__ for ws in WORKFLOWS.values() for w in ws}
    kinds = Counter(e.event_type for h in histories for e in h.events)
    for kind in (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, EventType.EVENT_TYPE_TIMER_FIRED,
                 EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                 EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
                 EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
                 EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED):
        assert kinds[kind], f"no recorded history has a {EventType.Name(kind)}"


def test_every_patch_has_a_history_from_before_it_and_one_from_after() -> None:
    """The old branch of each `workflow.patched` is exercised by a history without its marker
    (kept as `<scenario>.pre-<patch>--*.json`) and the new one by a history with it."""
    for patch in PATCHES:
        before = [p for p in FILES if f".pre-{patch}--" in p.name]
        assert before, f"no history recorded before {patch!r}: python -m tests.replay.record --at ..."
        assert all(patch not in patches_in(load(p)) for p in before)
        assert any(patch in patches_in(load(p)) for p in FILES if ".pre-" not in p.name), patch
