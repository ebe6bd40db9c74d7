"""The YAML rule-file format, as pydantic models: one file is one rule set.

```yaml
ruleset: priority
hit_policy: first            # first: the highest-priority rule that matches wins
                             # collect: every matching rule's outcome is merged,
                             #          higher priority wins on a key both set
default: {lane: standard}    # the outcome when no rule matches (merged under the rest)
rules:
  - id: vip-express
    priority: 10             # lower fires first
    when:                    # every condition must hold
      - {fact: customer_tier, in: [gold, platinum]}
      - any:                 # at least one of these
          - {fact: total_minor, gte: 100000}
          - {fact: channel, eq: tmall}
    then: {lane: express, sla_hours: 12}
```

Operators: eq, ne, gt, gte, lt, lte, in, not_in, matches (regex), exists (true/false).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "matches", "exists")
Scalar = str | int | bool | float


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fact: str | None = None
    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: int | float | None = None
    gte: int | float | None = None
    lt: int | float | None = None
    lte: int | float | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    matches: str | None = None
    exists: bool | None = None
    any: list[Condition] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        if self.any is not None:
            if self.fact is not None or self.operator() is not None:
                raise ValueError("a condition is either `any: [...]` or `fact` + one operator")
            if not self.any:
                raise ValueError("`any` needs at least one condition")
            return self
        if self.fact is None:
            raise ValueError("a condition needs `fact` (or `any`)")
        set_ops = [op for op in OPERATORS if self.value_of(op) is not None]
        if len(set_ops) != 1:
            raise ValueError(
                f"condition on '{self.fact}' needs exactly one operator of {', '.join(OPERATORS)}"
            )
        return self

    def value_of(self, op: str) -> Any:
        return getattr(self, "in_" if op == "in" else op)

    def operator(self) -> str | None:
        for op in OPERATORS:
            if self.value_of(op) is not None:
                return op
        return None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,60}$")
    description: str = ""
    priority: int = Field(ge=0, le=65_000)
    when: list[Condition] = []
    then: dict[str, Any]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ruleset: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    description: str = ""
    hit_policy: Literal["first", "collect"] = "first"
    default: dict[str, Any] = {}
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"two rules have the id '{rule.id}'")
            seen.add(rule.id)
        return self

    def ordered(self) -> list[Rule]:
        return sorted(self.rules, key=lambda r: (r.priority, r.id))
