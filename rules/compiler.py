"""Compile a rule file to a durable_rules JSON ruleset, avoiding the engine's known edges.

Every rule and every fact carries a type discriminator (`t`) so no rule can match the
engine's own state fact; a catch-all rule at the lowest priority matches every fact, so
the engine never sees a fact no rule matched (that sequence has crashed it); absent facts
never satisfy `ne`/`not_in` (same as the reference evaluator); effective dates become
conditions on the decision time (`_now`, epoch seconds); line groups use the engine's
`$iany`/`$iall` with `$i.field` (the other spelling silently matches nothing); conditions
are brought to one `$or` of `$and`s, because the engine rejects `$or` nested in `$or`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rules.format import Condition, Rule, RuleFile

CATCH_ALL = "__catch_all__"
TYPE_KEY = "t"
NOW_KEY = "_now"
LINES_KEY = "lines"
# The engine keeps at most 31 expressions per rule (MAX_SEQUENCE_EXPRESSIONS in rete.h;
# error 113 beyond it); a rule that needs more is split into several engine rules that
# run the same action, each with a share of the alternatives.
MAX_EXPRESSIONS = 30


def content_hash(rule_file: RuleFile) -> str:
    """The version: everything that can change a decision or its explanation, not examples."""
    dumped = rule_file.model_dump(mode="json", by_alias=True, exclude={"examples"})
    canonical = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


Conjunction = list[dict[str, Any]]


def _simple(cond: Condition, prefix: str) -> list[Conjunction]:
    """A plain condition as a disjunction of conjunctions of engine terms."""
    assert cond.fact is not None
    fact = prefix + cond.fact
    op = cond.operator()
    value = cond.value_of(op or "")
    exists = {"$ex": {fact: 1}}
    if op == "eq":
        return [[{fact: value}]]
    if op == "ne":
        return [[exists, {"$neq": {fact: value}}]]
    if op in ("gt", "gte", "lt", "lte"):
        return [[{"$" + op: {fact: value}}]]
    if op == "in":
        return [[{fact: v}] for v in value]
    if op == "not_in":
        return [[exists, *({"$neq": {fact: v}} for v in value)]]
    if op == "matches":
        return [[{"$mt": {fact: value}}]]
    if op == "exists":
        return [[exists if value else {"$nex": {fact: 1}}]]
    raise ValueError(f"unknown operator {op}")


def _product(parts: list[list[Conjunction]]) -> list[Conjunction]:
    """AND of disjunctions, distributed: (a|b)&(c) -> (a&c)|(b&c)."""
    result: list[Conjunction] = [[]]
    for disjunction in parts:
        result = [left + right for left in result for right in disjunction]
    return result


def _dnf(cond: Condition, prefix: str = "") -> list[Conjunction]:
    grouped = cond.group()
    if grouped is None:
        return _simple(cond, prefix)
    name, members = grouped
    if name == "any":
        return [conj for m in members for conj in _dnf(m, prefix)]
    if name == "all":
        return _product([_dnf(m, prefix) for m in members])
    inner = _unique(_product([_dnf(m, "$i.") for m in members]))
    if name == "any_line":  # some line (a or b) == (some line a) or (some line b)
        return [[{"$iany": {LINES_KEY: _expression([conj])}}] for conj in inner]
    return [[{"$iall": {LINES_KEY: _expression(inner)}}]]


class TooComplex(ValueError):
    """A rule whose conditions expand beyond what one engine rule can hold."""


def _size(expr: Any) -> int:
    """Expressions the engine stores for a term (an over-estimate: leaves 1, each `$and`
    one more, each `$or`, `$iany`, `$iall` two more)."""
    if not isinstance(expr, dict) or len(expr) != 1:
        return 1
    (key, value), = expr.items()
    if key in ("$and", "$or"):
        return sum(_size(v) for v in value) + (1 if key == "$and" else 2)
    if key in ("$iany", "$iall"):
        return sum(_size(v) for v in value.values()) + 2
    return 1


def _chunks(dnf: list[Conjunction], rule_id: str) -> list[list[Conjunction]]:
    """Alternatives grouped so each engine rule stays within the engine's expression limit."""
    chunks: list[list[Conjunction]] = [[]]
    used = 2
    for conj in dnf:
        cost = sum(_size(t) for t in conj) + 1
        if cost + 2 > MAX_EXPRESSIONS:
            raise TooComplex(f"rule '{rule_id}': one combination of its conditions needs {cost} engine "
                             f"expressions, more than the {MAX_EXPRESSIONS} the engine allows; split the "
                             "rule into simpler ones")
        if used + cost > MAX_EXPRESSIONS and chunks[-1]:
            chunks.append([])
            used = 2
        chunks[-1].append(conj)
        used += cost
    return chunks


def _unique(dnf: list[Conjunction]) -> list[Conjunction]:
    """Drop repeated terms and repeated alternatives (they only cost engine nodes)."""
    seen: set[str] = set()
    out: list[Conjunction] = []
    for conj in dnf:
        terms = list({json.dumps(t, sort_keys=True): t for t in conj}.values())
        key = json.dumps(sorted(json.dumps(t, sort_keys=True) for t in terms))
        if key not in seen:
            seen.add(key)
            out.append(terms)
    return out


def _expression(dnf: list[Conjunction]) -> dict[str, Any]:
    """One level of `$or` over `$and`s: the engine rejects `$or` nested in `$or` (found by
    the generated-rules test), so every rule is compiled to this normal form."""
    if len(dnf) == 1:
        return {"$and": dnf[0]} if len(dnf[0]) != 1 else dnf[0][0]
    return {"$or": [{"$and": conj} if len(conj) != 1 else conj[0] for conj in dnf]}


def _window_terms(rule: Rule) -> list[dict[str, Any]]:
    start, end = rule.window()
    terms: list[dict[str, Any]] = []
    if start is not None:
        terms.append({"$gte": {NOW_KEY: start}})
    if end is not None:
        terms.append({"$lt": {NOW_KEY: end}})
    return terms


def compile_ruleset(rule_file: RuleFile, type_tag: str) -> dict[str, Any]:
    """JSON ruleset; rule names are the rule ids, actions are resolved by name."""
    compiled: dict[str, Any] = {}
    for rule in rule_file.rules:
        fixed = [{TYPE_KEY: type_tag}, *_window_terms(rule)]
        dnf = _unique([fixed + conj for conj in _product([_dnf(c) for c in rule.when])])
        for part, chunk in enumerate(_chunks(dnf, rule.id)):
            name = rule.id if part == 0 else f"{rule.id}~{part + 1}"
            compiled[name] = {"all": [{"m": _expression(chunk)}], "pri": rule.priority, "run": rule.id}
    compiled[CATCH_ALL] = {"all": [{"m": {TYPE_KEY: type_tag}}], "pri": 65_535, "run": CATCH_ALL}
    return compiled


def _collect(conds: list[Condition], top: set[str], line: set[str], in_line: bool) -> None:
    for cond in conds:
        grouped = cond.group()
        if grouped is None:
            (line if in_line else top).add(cond.fact or "")
            continue
        name, members = grouped
        if name in ("any_line", "all_lines"):
            top.add(LINES_KEY)
            _collect(members, top, line, True)
        else:
            _collect(members, top, line, in_line)


def referenced_facts(rule_file: RuleFile) -> tuple[frozenset[str], frozenset[str]]:
    """(order-level facts, line-level facts) the rules look at: all the engine is sent."""
    top: set[str] = set()
    line: set[str] = set()
    for rule in rule_file.rules:
        _collect(rule.when, top, line, False)
    return frozenset(top), frozenset(line)
