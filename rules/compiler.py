"""Compile a rule file to a durable_rules JSON ruleset, avoiding the engine's known edges.

Every rule and every fact carries a type discriminator (`t`) so no rule can match the
engine's own state fact; a catch-all rule at the lowest priority matches every fact, so
the engine never sees a fact no rule matched (that sequence has crashed it); absent facts
never satisfy `ne`/`not_in` (same as the reference evaluator).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rules.format import Condition, RuleFile

CATCH_ALL = "__catch_all__"
TYPE_KEY = "t"


def content_hash(rule_file: RuleFile) -> str:
    canonical = json.dumps(rule_file.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _term(cond: Condition) -> dict[str, Any]:
    if cond.any is not None:
        return {"$or": [_term(c) for c in cond.any]}
    fact = cond.fact
    assert fact is not None
    op = cond.operator()
    value = cond.value_of(op or "")
    exists = {"$ex": {fact: 1}}
    if op == "eq":
        return {fact: value}
    if op == "ne":
        return {"$and": [exists, {"$neq": {fact: value}}]}
    if op in ("gt", "gte", "lt", "lte"):
        return {"$" + op: {fact: value}}
    if op == "in":
        return {"$or": [{fact: v} for v in value]}
    if op == "not_in":
        return {"$and": [exists, *({"$neq": {fact: v}} for v in value)]}
    if op == "matches":
        return {"$mt": {fact: value}}
    if op == "exists":
        return exists if value else {"$nex": {fact: 1}}
    raise ValueError(f"unknown operator {op}")


def compile_ruleset(rule_file: RuleFile, type_tag: str) -> dict[str, Any]:
    """JSON ruleset; rule names are the rule ids, actions are resolved by name."""
    compiled: dict[str, Any] = {}
    for rule in rule_file.rules:
        compiled[rule.id] = {
            "all": [{"m": {"$and": [{TYPE_KEY: type_tag}, *(_term(c) for c in rule.when)]}}],
            "pri": rule.priority,
            "run": rule.id,
        }
    compiled[CATCH_ALL] = {"all": [{"m": {TYPE_KEY: type_tag}}], "pri": 65_535, "run": CATCH_ALL}
    return compiled
