"""What changed between two versions of a rule set, rule by rule (`ordo rules diff`, and
the summary line of each entry in the rule-change log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.format import Rule, RuleFile

_RULE_FIELDS = ("description", "priority", "effective_from", "effective_until", "when", "then")


@dataclass
class RuleChange:
    rule: str
    kind: str  # added | removed | changed
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (old, new)


@dataclass
class RulesetDiff:
    ruleset: str
    kind: str  # added | removed | changed | same
    settings: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # hit_policy, default
    rules: list[RuleChange] = field(default_factory=list)

    def summary(self) -> str:
        if self.kind in ("added", "removed"):
            return f"rule set {self.kind}"
        if self.kind == "same":
            return "no change"
        parts = [f"{name} changed" for name in self.settings]
        for kind in ("added", "removed", "changed"):
            ids = [c.rule for c in self.rules if c.kind == kind]
            if ids:
                parts.append(f"{len(ids)} {kind} ({', '.join(ids)})")
        return "; ".join(parts) or "descriptions only"


def _dump(rule: Rule, name: str) -> Any:
    return rule.model_dump(mode="json", by_alias=True, exclude_none=True).get(name)


def diff_rulesets(old: RuleFile | None, new: RuleFile | None) -> RulesetDiff:
    name = (new or old).ruleset if (new or old) else ""  # type: ignore[union-attr]
    if old is None and new is not None:
        return RulesetDiff(name, "added", rules=[RuleChange(r.id, "added") for r in new.rules])
    if new is None or old is None:
        return RulesetDiff(name, "removed")
    out = RulesetDiff(name, "changed")
    for setting in ("hit_policy", "default", "description"):
        before, after = getattr(old, setting), getattr(new, setting)
        if before != after:
            out.settings[setting] = (before, after)
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule in new.rules:
        if rule.id not in old_rules:
            out.rules.append(RuleChange(rule.id, "added"))
            continue
        changed = {f: (_dump(old_rules[rule.id], f), _dump(rule, f)) for f in _RULE_FIELDS
                   if _dump(old_rules[rule.id], f) != _dump(rule, f)}
        if changed:
            out.rules.append(RuleChange(rule.id, "changed", changed))
    out.rules.extend(RuleChange(r.id, "removed") for r in old.rules if r.id not in new_rules)
    if not out.settings and not out.rules:
        out.kind = "same"
    return out
