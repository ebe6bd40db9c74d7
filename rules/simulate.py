"""`ordo rules simulate`: what candidate rule files would have decided for past orders.

Each recorded decision is re-decided from the facts it saw then (stock shortages, the
carrier quotes on offer, the decision time for effective dates), on the same engine as
the workers, in batches. Every re-decision is also run on the reference evaluator; a
disagreement is counted and reported, never hidden.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.messages import Quote
from domain.rating import choose
from domain.rulesets import RULESETS, CarrierOutcome
from rules.engine import EngineProcess, LoadedRuleset
from rules.reference import fired_rules
from rules.shipped import default_outcome

SAMPLES_PER_CHANGE = 5


@dataclass
class ChangeGroup:
    ruleset: str
    change: str  # e.g. "lane: standard -> express"
    count: int = 0
    samples: list[str] = field(default_factory=list)


@dataclass
class RulesetTally:
    decisions: int = 0
    changed: int = 0


@dataclass
class SimulationReport:
    orders: int = 0
    decisions: int = 0
    changed: int = 0
    skipped: int = 0  # decisions of rule sets the candidate does not have
    disagreements: int = 0
    by_ruleset: dict[str, RulesetTally] = field(default_factory=lambda: defaultdict(RulesetTally))
    groups: dict[tuple[str, str], ChangeGroup] = field(default_factory=dict)
    disagreement_samples: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "orders": self.orders, "decisions": self.decisions, "changed": self.changed,
            "skipped": self.skipped, "engine_reference_disagreements": self.disagreements,
            "by_ruleset": {k: vars(v) for k, v in sorted(self.by_ruleset.items())},
            "changes": [vars(g) for g in sorted(self.groups.values(), key=lambda g: (-g.count, g.ruleset))],
        }


def _when(row: dict[str, Any]) -> int:
    at: dt.datetime = row.get("decided_at") or row["created_at"]
    return int((at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp())


def _carrier(facts: dict[str, Any], outcome: dict[str, Any]) -> str | None:
    quotes = facts.get("quotes")
    if not isinstance(quotes, list) or not quotes:
        return None
    known = {k: v for k, v in outcome.items() if k in CarrierOutcome.model_fields}
    # a logged outcome may predate a key: the shipped default stands in for it
    chosen = choose([Quote.model_validate(q) for q in quotes],
                    default_outcome(CarrierOutcome, "carriers", **known), set())
    return chosen.carrier if chosen else "none"


def _fmt(value: Any) -> str:
    if isinstance(value, float | Decimal):
        return f"{value:g}"
    return str(value)


def describe_change(ruleset: str, facts: dict[str, Any], old: dict[str, Any],
                    new: dict[str, Any]) -> str | None:
    """The outcome keys that differ, `key: old -> new`; the carrier it leads to for carriers."""
    keys = RULESETS[ruleset].outcome.model_fields if ruleset in RULESETS else new.keys()
    parts = [f"{k}: {_fmt(old.get(k, '-'))} -> {_fmt(new.get(k, '-'))}"
             for k in keys if old.get(k) != new.get(k) and (k in old or k in new)]
    if ruleset == "carriers":
        before, after = _carrier(facts, old), _carrier(facts, new)
        if before != after:
            parts.append(f"carrier: {before} -> {after}")
    return "; ".join(parts) or None


class Simulator:
    def __init__(self, candidate: dict[str, LoadedRuleset], engine: EngineProcess) -> None:
        self.candidate, self.engine = candidate, engine
        self.report = SimulationReport()
        self._orders: set[str] = set()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="simulate-engine")

    def close(self) -> None:
        self._pool.shutdown()

    def feed(self, rows: list[dict[str, Any]]) -> None:
        by_ruleset: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            self._orders.add(row["order_id"])
            if row["ruleset"] in self.candidate:
                by_ruleset[row["ruleset"]].append(row)
            else:
                self.report.skipped += 1
        for name, group in by_ruleset.items():
            loaded = self.candidate[name]
            cases = [(row["facts"], _when(row)) for row in group]
            # the engine works in its own process while this one runs the reference: 2 cores
            engine_answer = self._pool.submit(self.engine.fire, loaded, cases)
            reference = [fired_rules(loaded.rule_file, facts, now) for facts, now in cases]
            for row, (facts, _), (fired, _), ref in zip(group, cases, engine_answer.result(), reference,
                                                         strict=True):
                self._tally(loaded, row, facts, fired, ref)
        self.report.orders = len(self._orders)

    def _tally(self, loaded: LoadedRuleset, row: dict[str, Any], facts: dict[str, Any],
               fired: list[str], reference: list[str]) -> None:
        report = self.report
        report.decisions += 1
        tally = report.by_ruleset[row["ruleset"]]
        tally.decisions += 1
        if reference != fired:
            report.disagreements += 1
            if len(report.disagreement_samples) < SAMPLES_PER_CHANGE:
                report.disagreement_samples.append(f"{row['order_id']} {row['step']}")
        change = describe_change(row["ruleset"], facts, row["outcome"], loaded.outcome(fired))
        if change is None:
            return
        report.changed += 1
        tally.changed += 1
        group = report.groups.setdefault((row["ruleset"], change), ChangeGroup(row["ruleset"], change))
        group.count += 1
        if len(group.samples) < SAMPLES_PER_CHANGE and row["order_id"] not in group.samples:
            group.samples.append(row["order_id"])
