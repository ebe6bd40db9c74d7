"""A child's restart budget is a rate: crashes long ago do not count against it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cli.processes import Supervisor


def test_restarts_count_only_within_the_window(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path)
    child = sup.start("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    assert child.proc.wait(timeout=30) == 3
    now = time.monotonic()
    child.restarted_at = [now - 500, now - 400, now - 10]  # two restarts long ago, one recent
    assert child.restarts_within(60.0, now) == 1
    assert child.restarts_within(600.0, now) == 3
    sup.restart(child)  # a real second process, and the restart counted now
    assert child.proc.wait(timeout=30) == 3
    assert child.restarts_within(60.0, time.monotonic()) == 2
    assert (tmp_path / "crasher.log").exists()
