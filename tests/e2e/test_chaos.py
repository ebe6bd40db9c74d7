"""`ordo chaos` as a user runs it, in CI's short form: three scenarios on a stack of its own
(kill -9 of every worker, a duplicate storm, reused waybill numbers), every check clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from config.settings import PROJECT_ROOT

ORDO = Path(sys.executable).parent / "ordo"
SHORT = "worker-kill,duplicate-storm,waybill-reuse"


def chaos(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORDO_VAR_DIR": str(tmp_path), "COLUMNS": "200"}
    env.pop("ORDO_DATABASE_URL", None)
    return subprocess.run([str(ORDO), "chaos", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=900)


def test_the_short_chaos_run_finds_every_order_settled_once(tmp_path: Path) -> None:
    done = chaos(tmp_path, "--scenario", SHORT, "--orders", "8")  # one of the eight is cancelled
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rows = {r["scenario"]: r for r in result["scenarios"]}
    assert list(rows) == SHORT.split(",")
    for r in rows.values():
        counts = (r["submitted"], r["acknowledged"], r["settled"], r["stuck"], r["violations"])
        assert counts == (8, 8, 8, 0, 0), r
        assert r["cancel_asked"] == 1 and sum(r["by_status"].values()) == 8
    assert rows["worker-kill"]["note"].startswith("kill -9 of each of the 5 workers")
    assert "waybill-reuse" in done.stdout and "violations" in done.stdout  # the table
    assert json.loads((tmp_path / "chaos" / "latest.json").read_text())["violations"] == 0


def test_an_unknown_scenario_is_named_with_the_choices(tmp_path: Path) -> None:
    done = chaos(tmp_path, "--scenario", "worker-kill,meteor")
    assert done.returncode == 2
    assert "unknown meteor" in done.stderr and "duplicate-storm" in done.stderr


def test_a_short_soak_reports_each_minute_and_each_process_memory(tmp_path: Path) -> None:
    done = chaos(tmp_path, "--soak", "0.1", "--rate", "1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["orders"], result["settled"]) == (6, 6)
    [minute] = result["windows"]
    assert minute["submitted"] == 6 and 0 < minute["p50_ms"] <= minute["p99_ms"]
    names = set(result["memory_mb"])
    assert {"temporal", "api", "dispatcher", "worker-orders", "sim-carriers"} <= names
    assert all(m["start"] > 0 and m["end"] > 0 for m in result["memory_mb"].values())
    assert "memory at start MB" in done.stdout
