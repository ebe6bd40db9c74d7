"""A plain-Python evaluator of the rule format: the oracle the durable_rules path is tested
against, the way `explain` finds the first condition that failed, and the fallback for a
fact too large for the engine (more than its 255 properties)."""

from __future__ import annotations

import re
from typing import Any

from rules.format import Condition, Rule, RuleFile


def _line_dicts(facts: dict[str, Any]) -> list[dict[str, Any]]:
    lines = facts.get("lines")
    return [ln for ln in lines if isinstance(ln, dict)] if isinstance(lines, list) else []


def holds(cond: Condition, facts: dict[str, Any]) -> bool:
    grouped = cond.group()
    if grouped is not None:
        name, members = grouped
        if name == "any":
            return any(holds(c, facts) for c in members)
        if name == "all":
            return all(holds(c, facts) for c in members)
        lines = _line_dicts(facts)
        matching = (all(holds(c, ln) for c in members) for ln in lines)
        if name == "any_line":
            return any(matching)
        return bool(lines) and all(matching)  # all_lines needs at least one line
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
        return _same(value, expected)
    if op == "ne":
        return not _same(value, expected)
    if op == "in":
        return any(_same(value, v) for v in expected)
    if op == "not_in":
        return not any(_same(value, v) for v in expected)
    if op == "matches":
        return isinstance(value, str) and re.fullmatch(expected, value) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return bool(
        {"gt": value > expected, "gte": value >= expected,
         "lt": value < expected, "lte": value <= expected}[op or ""]
    )


def _same(value: Any, expected: Any) -> bool:
    """Equality as the engine sees it: `true` is not `1`."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    return bool(value == expected)


def first_failed(rule: Rule, facts: dict[str, Any], now: int) -> str | None:
    """The first reason the rule did not fire, in words; None when it fires."""
    if not rule.effective_at(now):
        return f"not in effect (effective {rule.effective_from or '-'} to {rule.effective_until or '-'})"
    for cond in rule.when:
        if not holds(cond, facts):
            return cond.text()
    return None


def fired_rules(rule_file: RuleFile, facts: dict[str, Any], now: int) -> list[str]:
    return [r.id for r in rule_file.ordered() if first_failed(r, facts, now) is None]
