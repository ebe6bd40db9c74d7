"""`ordo rules test`: run every example of every rule file on the engine workers use, and
on the reference evaluator; a case passes when both give what the example expects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rules.engine import EngineProcess, compile_loaded, epoch
from rules.format import RuleFile
from rules.reference import fired_rules, first_failed


@dataclass
class CaseResult:
    ruleset: str
    name: str
    passed: bool
    fired: list[str]
    outcome: dict[str, Any]
    differences: list[str] = field(default_factory=list)


def _compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    return [f"outcome.{k}: expected {v!r}, got {actual.get(k, '<absent>')!r}"
            for k, v in expected.items() if actual.get(k) != v]


def run_examples(rule_file: RuleFile, engine: EngineProcess,
                 now: dt.datetime | None = None) -> list[CaseResult]:
    loaded = compile_loaded(rule_file)
    default_now = epoch(now or dt.datetime.now(dt.UTC))
    cases = [(ex.given, ex.now(default_now)) for ex in rule_file.examples]
    results: list[CaseResult] = []
    for ex, (facts, at), (fired, _) in zip(rule_file.examples, cases, engine.fire(loaded, cases),
                                           strict=True):
        outcome = rule_file.outcome(fired)
        diffs: list[str] = []
        reference = fired_rules(rule_file, facts, at)
        if reference != fired:
            diffs.append(f"engine and reference evaluator disagree: durable_rules fired {fired}, "
                         f"reference fired {reference} (a bug in Ordo; please report it)")
        if ex.expect.fired is not None and sorted(ex.expect.fired) != sorted(fired):
            by_id = {r.id: r for r in rule_file.rules}
            missing = [f"{r} (failed: {first_failed(by_id[r], facts, at)})" if r in by_id else r
                       for r in ex.expect.fired if r not in fired]
            extra = [r for r in fired if r not in ex.expect.fired]
            diffs.append(f"fired: expected {ex.expect.fired}, got {fired}"
                         + (f"; did not fire {', '.join(missing)}" if missing else "")
                         + (f"; also fired {extra}" if extra else ""))
        diffs.extend(_compare(ex.expect.outcome or {}, outcome))
        results.append(CaseResult(rule_file.ruleset, ex.name, not diffs, fired, outcome, diffs))
    return results
