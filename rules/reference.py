"""A plain-Python evaluator of the rule format: the oracle the durable_rules path is tested
against, the way `explain` finds the first condition that failed, and the fallback for a
fact too large for the engine (more than its 255 properties)."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from rules.format import Condition, Rule, RuleFile

Predicate = Callable[[dict[str, Any]], bool]


def _line_dicts(facts: dict[str, Any]) -> list[dict[str, Any]]:
    lines = facts.get("lines")
    return [ln for ln in lines if isinstance(ln, dict)] if isinstance(lines, list) else []


def _same(value: Any, expected: Any) -> bool:
    """Equality as the engine sees it: `true` is not `1`."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    return bool(value == expected)


def _simple(op: str, expected: Any, present: bool, value: Any) -> bool:
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
    return bool({"gt": value > expected, "gte": value >= expected,
                 "lt": value < expected, "lte": value <= expected}[op])


def predicate(cond: Condition) -> Predicate:
    """The condition as a closure, built once per rule set version (simulate calls it
    hundreds of thousands of times)."""
    grouped = cond.group()
    if grouped is not None:
        name, members = grouped
        preds = [predicate(m) for m in members]
        if name == "any":
            return lambda facts: any(p(facts) for p in preds)
        if name == "all":
            return lambda facts: all(p(facts) for p in preds)
        if name == "any_line":
            return lambda facts: any(all(p(ln) for p in preds) for ln in _line_dicts(facts))
        # all_lines needs at least one line
        return lambda facts: bool(lines := _line_dicts(facts)) and all(
            all(p(ln) for p in preds) for ln in lines)
    fact, op = cond.fact or "", cond.operator() or ""
    expected = cond.value_of(op)
    return lambda facts: _simple(op, expected, fact in facts, facts.get(fact))


def holds(cond: Condition, facts: dict[str, Any]) -> bool:
    return predicate(cond)(facts)


def first_failed(rule: Rule, facts: dict[str, Any], now: int) -> str | None:
    """The first reason the rule did not fire, in words; None when it fires."""
    if not rule.effective_at(now):
        return f"not in effect (effective {rule.effective_from or '-'} to {rule.effective_until or '-'})"
    for cond in rule.when:
        if not holds(cond, facts):
            return cond.text()
    return None


Compiled = list[tuple[str, int, int, list[Predicate]]]  # id, from, until, conditions
_COMPILED: OrderedDict[int, tuple[RuleFile, Compiled]] = OrderedDict()
_ALWAYS = (-(2**62), 2**62)


def _compiled(rule_file: RuleFile) -> Compiled:
    key = id(rule_file)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is rule_file:
        _COMPILED.move_to_end(key)
        return hit[1]
    compiled = []
    for r in rule_file.ordered():
        start, end = r.window()
        compiled.append((r.id, _ALWAYS[0] if start is None else start, _ALWAYS[1] if end is None else end,
                         [predicate(c) for c in r.when]))
    _COMPILED[key] = (rule_file, compiled)
    if len(_COMPILED) > 64:
        _COMPILED.popitem(last=False)
    return compiled


def fired_rules(rule_file: RuleFile, facts: dict[str, Any], now: int) -> list[str]:
    return [rid for rid, start, end, preds in _compiled(rule_file)
            if start <= now < end and all(p(facts) for p in preds)]
