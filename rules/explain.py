"""`ordo rules explain ORDER_ID`: every decision an order got, why, and why not.

The rule text comes from the rule-change log (the version the decision recorded), not
from today's files: an order decided last week is explained by last week's rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from domain.messages import BookingEvent
from domain.records import DecisionRow
from rules.format import RuleFile
from rules.reference import first_failed


@dataclass
class RuleVerdict:
    rule: str
    priority: int
    description: str
    then: dict[str, Any]
    failed: str = ""  # the first condition that failed, for rules that did not fire


@dataclass
class DecisionExplanation:
    step: str
    ruleset: str
    version: str
    decided_at: str
    evaluator: str
    facts: dict[str, Any]
    outcome: dict[str, Any]
    fired: list[RuleVerdict] = field(default_factory=list)
    not_fired: list[RuleVerdict] = field(default_factory=list)
    note: str = ""
    followups: list[BookingEvent] = field(default_factory=list)  # what came of it, in order


def _when(row: DecisionRow) -> dt.datetime:
    at = row.decided_at or row.created_at
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def explain(rows: list[DecisionRow], contents: dict[tuple[str, str], dict[str, Any]],
            followups: list[BookingEvent] | None = None) -> list[DecisionExplanation]:
    """`followups` (what happened after each decision) are shown under the decision they are
    linked to, after it: the decision itself is shown as it was made."""
    after: dict[str, list[BookingEvent]] = {}
    for f in sorted(followups or [], key=lambda f: f.seq):
        after.setdefault(f.decision_key, []).append(f)
    out: list[DecisionExplanation] = []
    for row in rows:
        at = _when(row)
        exp = DecisionExplanation(
            step=row.step, ruleset=row.ruleset, version=row.version, decided_at=at.isoformat(),
            evaluator=row.evaluator or "durable_rules", facts=row.facts, outcome=row.outcome,
            followups=after.get(row.key, []))
        content = contents.get((row.ruleset, row.version))
        rule_file: RuleFile | None = None
        if content is not None:
            try:
                rule_file = RuleFile.model_validate(content)
            except ValidationError:
                rule_file = None
        if rule_file is None:
            exp.note = (f"version {row.version} of '{row.ruleset}' is not in the rule-change log; "
                        "only the rules that fired are known")
            exp.fired = [RuleVerdict(r, 0, "", {}) for r in row.fired]
            out.append(exp)
            continue
        by_id = {r.id: r for r in rule_file.rules}
        now = int(at.timestamp())
        for rule in rule_file.ordered():
            verdict = RuleVerdict(rule.id, rule.priority, rule.description, rule.then)
            if rule.id in row.fired:
                exp.fired.append(verdict)
            else:
                verdict.failed = first_failed(rule, row.facts, now) or \
                    "matches these facts (the recorded decision differs: report this)"
                exp.not_fired.append(verdict)
        exp.fired.sort(key=lambda v: row.fired.index(v.rule) if v.rule in by_id else 0)
        out.append(exp)
    return out
