"""A plain-Python evaluator of the rule format: the oracle the durable_rules path is tested
against, and the way `explain` finds the first condition that failed."""

from __future__ import annotations

import re
from typing import Any

from rules.format import Condition, Rule, RuleFile


def holds(cond: Condition, facts: dict[str, Any]) -> bool:
    if cond.any is not None:
        return any(holds(c, facts) for c in cond.any)
    assert cond.fact is not None
    op = cond.operator()
    expected = cond.value_of(op or "")
    present = cond.fact in facts
    value = facts.get(cond.fact)
    if op == "exists":
        return present == expected
    if not present:
        return False
    if op == "eq":
        return bool(value == expected)
    if op == "ne":
        return bool(value != expected)
    if op == "in":
        return value in expected
    if op == "not_in":
        return value not in expected
    if op == "matches":
        return isinstance(value, str) and re.fullmatch(expected, value) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return bool(
        {"gt": value > expected, "gte": value >= expected,
         "lt": value < expected, "lte": value <= expected}[op or ""]
    )


def first_failed(rule: Rule, facts: dict[str, Any]) -> Condition | None:
    for cond in rule.when:
        if not holds(cond, facts):
            return cond
    return None


def fired_rules(rule_file: RuleFile, facts: dict[str, Any]) -> list[str]:
    return [r.id for r in rule_file.ordered() if first_failed(r, facts) is None]
