"""`ordo rules check|test|diff|schema` as an operator runs them: real processes, exit codes
and the words on screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT

RULES = PROJECT_ROOT / "rules"


def ordo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", "rules", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "250"})


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_passes_the_shipped_files_and_fails_a_broken_one(copy: Path) -> None:
    ok = ordo("check", str(RULES))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count(": ok - rule set") == 6

    edit(copy / "carriers.yaml", "{fact: lane, eq: economy}", "{fact: lane, eq: ecconomy}")
    edit(copy / "split.yaml", "priority: 20", "priority: 10\n    prio: 3")
    bad = ordo("check", str(copy))
    assert bad.returncode == 1
    lines = [ln for ln in bad.stdout.splitlines() if ".yaml:" in ln]
    assert any("carriers.yaml:" in ln and "rule 'economy-cost-first': 'ecconomy' is not a possible value of "
               "'lane' (did you mean 'economy'?)" in ln for ln in lines), bad.stdout
    assert any("split.yaml:" in ln and "unknown field 'prio'" in ln for ln in lines), bad.stdout
    assert "2 problem(s)" in bad.stdout


def test_test_reports_each_case_and_the_difference_of_a_failing_one(copy: Path) -> None:
    good = ordo("test", str(RULES))
    assert good.returncode == 0, good.stdout
    assert "89 passed, 0 failed" in good.stdout

    edit(copy / "priority.yaml", "{fact: total_minor, gte: 200000}", "{fact: total_minor, gte: 300000}")
    bad = ordo("test", str(copy))
    assert bad.returncode == 1
    assert "FAIL priority: a 2500-yuan basket" in bad.stdout
    assert "did not fire big-basket (failed: total_minor gte 300000)" in bad.stdout
    assert "outcome.lane: expected 'express', got 'standard'" in bad.stdout
    assert "PASS priority: gold member" in bad.stdout


def test_diff_lists_what_changed_rule_by_rule(copy: Path) -> None:
    edit(copy / "priority.yaml", "{fact: total_minor, gte: 200000}", "{fact: total_minor, gte: 150000}")
    edit(copy / "exceptions.yaml", "  - id: sla-breach-escalate", "  - id: sla-breach-notify")
    out = ordo("diff", str(RULES), str(copy))
    assert out.returncode == 0, out.stderr
    assert "priority: 1 changed (big-basket)" in out.stdout
    assert 'when: [{"fact": "total_minor", "gte": 200000}] -> [{"fact": "total_minor", "gte": 150000}]' \
        in out.stdout
    assert "exceptions: 1 added (sla-breach-notify); 1 removed (sla-breach-escalate)" in out.stdout
    assert "split" not in out.stdout and "carriers" not in out.stdout
    assert "warning:" in out.stderr and "expects rule 'sla-breach-escalate'" in out.stderr
    assert "no differences" in ordo("diff", str(RULES), str(RULES)).stdout


def test_schema_is_json_schema_with_the_fact_names() -> None:
    out = ordo("schema")
    assert out.returncode == 0
    schema = json.loads(out.stdout)
    facts = schema["$defs"]["Condition"]["properties"]["fact"]["anyOf"][0]["enum"]
    assert {"total_minor", "customer_tier", "exception_type", "temperature"} <= set(facts)
    assert schema["properties"]["ruleset"]["enum"] == [
        "carriers", "exceptions", "priority", "returns", "split", "transfers"]
