"""The bench's own arithmetic: the regression check against committed figures, CPU per order
from two /proc snapshots, and payload bytes found inside a history event."""

from __future__ import annotations

import json
import os
from pathlib import Path

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.history.v1 import HistoryEvent

from cli.bench import cost, guard


def result(ratio: float, worker_ms: float, baseline_ms: float = 400.0) -> dict[str, object]:
    return {"ratio": ratio, "ordo": {"orders_per_s": 3.0, "cpu_ms_per_order": {"worker-orders": worker_ms}},
            "baseline": {"orders_per_s": 2.0, "cpu_ms_per_order": {"total": baseline_ms}}}


def test_the_check_passes_inside_the_margin_and_names_each_regression(tmp_path: Path) -> None:
    committed = tmp_path / "committed.json"
    committed.write_text(json.dumps({"ratio": 1.0, "orders_worker_cpu_ms_per_order": 200.0,
                                     "orders_worker_cpu_per_baseline_cpu": 0.5}))
    assert guard.regressions(result(0.8, 240.0), committed) == []  # 20% worse: noise
    found = guard.regressions(result(0.7, 260.0), committed)
    assert len(found) == 2
    assert "ratio Ordo/baseline 0.7 < 1.0" in found[0] and "0.750" in found[0]
    assert "orders worker CPU per order 0.65 × a baseline workflow's > 0.5" in found[1]
    assert "0.625" in found[1]


def test_a_slower_machine_is_not_a_regression(tmp_path: Path) -> None:
    """The worker's CPU per order doubled on a loaded machine, and so did the baseline's."""
    committed = tmp_path / "committed.json"
    guard.record(result(0.9, 180.0, baseline_ms=360.0), committed)
    assert guard.regressions(result(0.9, 370.0, baseline_ms=720.0), committed) == []
    assert guard.regressions(result(0.9, 370.0, baseline_ms=360.0), committed) != []


def test_record_writes_what_the_check_reads(tmp_path: Path) -> None:
    path = tmp_path / "committed.json"
    guard.record(result(1.2, 150.0), path)
    assert guard.committed(path)["ratio"] == 1.2
    assert guard.regressions(result(1.2, 150.0), path) == []


def test_cpu_per_order_is_the_difference_of_two_snapshots() -> None:
    before = {"temporal": cost.ProcessSample(10.0, 100), "worker-orders": cost.ProcessSample(5.0, 90)}
    after = {"temporal": cost.ProcessSample(30.0, 120), "worker-orders": cost.ProcessSample(45.0, 95),
             "started-later": cost.ProcessSample(1.0, 10)}
    assert cost.cpu_ms_per_order(before, after, 200) == {"temporal": 100.0, "worker-orders": 200.0,
                                                         "total": 300.0}


def test_this_process_can_be_sampled() -> None:
    own = cost.sample(os.getpid())
    assert own is not None and own.cpu_s > 0 and own.rss_mb > 10
    assert cost.sample(2**22 + 12345) is None  # no such process


def test_payload_bytes_are_found_inside_an_event() -> None:
    payloads = [Payload(metadata={"encoding": b"json/plain"}, data=b"x" * 100), Payload(data=b"y" * 7)]
    event = HistoryEvent(event_id=1)
    event.workflow_execution_started_event_attributes.input.CopyFrom(Payloads(payloads=payloads))
    event.workflow_execution_started_event_attributes.memo.fields["k"].CopyFrom(Payload(data=b"z" * 5))
    expected = sum(p.ByteSize() for p in payloads) + Payload(data=b"z" * 5).ByteSize()
    assert cost._payload_bytes(event) == expected
