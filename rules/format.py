"""The YAML rule-file format, as pydantic models: one file is one rule set.

```yaml
ruleset: priority
hit_policy: first            # first: the highest-priority matching rule decides
                             # collect: every matching rule's `then` is merged over the
                             #          default; on a key two rules set, higher priority wins
default: {lane: standard, sla_hours: 48}
rules:
  - id: vip-express
    priority: 10             # lower fires first; ties break on id
    effective_from: 2026-11-10          # optional; dates are Asia/Shanghai midnight
    effective_until: 2026-11-13         # optional, exclusive
    when:                    # every condition must hold
      - {fact: customer_tier, in: [gold, platinum]}
      - any:                 # at least one of these
          - {fact: total_minor, gte: 100000}
          - {fact: channel, eq: tmall}
      - any_line:            # some line satisfies all of these
          - {fact: temperature, in: [chilled, frozen]}
    then: {lane: express, sla_hours: 12}
examples:
  - name: a gold member
    given: {customer_tier: gold, total_minor: 5000, channel: jd, lines: [{temperature: frozen}]}
    expect: {fired: [vip-express], outcome: {lane: express}}
```

Operators: eq, ne, gt, gte, lt, lte, in, not_in, matches (regex, whole value), exists.
Groups: any, all, any_line, all_lines (all_lines needs at least one line).
A fact that is absent satisfies only `exists: false`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "matches", "exists")
GROUPS = ("any", "all", "any_line", "all_lines")
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
Scalar = str | int | bool | float


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

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
    all: list[Condition] | None = None
    any_line: list[Condition] | None = None
    all_lines: list[Condition] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        groups = [g for g in GROUPS if getattr(self, g) is not None]
        ops = [op for op in OPERATORS if self.value_of(op) is not None]
        if groups:
            if len(groups) > 1 or self.fact is not None or ops:
                raise ValueError(
                    f"a condition is either one group ({', '.join(GROUPS)}) or `fact` + one operator")
            if not getattr(self, groups[0]):
                raise ValueError(f"`{groups[0]}` needs at least one condition")
            return self
        if self.fact is None:
            raise ValueError(f"a condition needs `fact` and one operator, or a group ({', '.join(GROUPS)})")
        if len(ops) != 1:
            raise ValueError(
                f"the condition on '{self.fact}' needs exactly one operator of {', '.join(OPERATORS)}"
                + (f" (it has {', '.join(ops)})" if ops else ""))
        return self

    def value_of(self, op: str) -> Any:
        return getattr(self, "in_" if op == "in" else op)

    def operator(self) -> str | None:
        for op in OPERATORS:
            if self.value_of(op) is not None:
                return op
        return None

    def group(self) -> tuple[str, list[Condition]] | None:
        for g in GROUPS:
            members = getattr(self, g)
            if members is not None:
                return g, members
        return None

    def text(self) -> str:
        """The condition as an operator would write it, for explanations."""
        grouped = self.group()
        if grouped is not None:
            name, members = grouped
            return f"{name}[" + "; ".join(m.text() for m in members) + "]"
        op = self.operator() or ""
        return f"{self.fact} {op} {_show(self.value_of(op))}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def to_instant(value: dt.date | dt.datetime) -> dt.datetime:
    """A date means midnight in the business's time zone; a naive datetime too."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=BUSINESS_TZ)
    return dt.datetime.combine(value, dt.time(), tzinfo=BUSINESS_TZ)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,60}$")
    description: str = ""
    priority: int = Field(ge=0, le=65_000)
    effective_from: dt.datetime | dt.date | None = None
    effective_until: dt.datetime | dt.date | None = None
    when: list[Condition] = []
    then: dict[str, Any]

    @model_validator(mode="after")
    def _window(self) -> Rule:
        start, end = self.window()
        if start is not None and end is not None and end <= start:
            raise ValueError("effective_until must be after effective_from")
        return self

    def window(self) -> tuple[int | None, int | None]:
        """Effective window as epoch seconds [from, until)."""
        start = int(to_instant(self.effective_from).timestamp()) if self.effective_from else None
        end = int(to_instant(self.effective_until).timestamp()) if self.effective_until else None
        return start, end

    def effective_at(self, now: int) -> bool:
        start, end = self.window()
        return (start is None or now >= start) and (end is None or now < end)


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fired: list[str] | None = None
    outcome: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _something(self) -> Expectation:
        if self.fired is None and self.outcome is None:
            raise ValueError("an expectation needs `fired`, `outcome` or both")
        return self


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    at: dt.datetime | dt.date | None = Field(
        None, description="when the decision is made (for effective dates); default: now")
    given: dict[str, Any]
    expect: Expectation

    def now(self, default: int) -> int:
        return int(to_instant(self.at).timestamp()) if self.at is not None else default


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ruleset: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    description: str = ""
    hit_policy: Literal["first", "collect"] = "first"
    default: dict[str, Any] = {}
    rules: list[Rule]
    examples: list[Example] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleFile:
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.id in seen:
                raise ValueError(f"rules[{i}]: two rules have the id '{rule.id}'")
            seen.add(rule.id)
        return self

    def ordered(self) -> list[Rule]:
        return sorted(self.rules, key=lambda r: (r.priority, r.id))

    def outcome(self, fired: list[str]) -> dict[str, Any]:
        """Merge per the hit policy; `fired` is in firing order (highest priority first)."""
        by_id = {r.id: r for r in self.rules}
        chosen = [by_id[f] for f in fired]
        if self.hit_policy == "first":
            chosen = chosen[:1]
        result = dict(self.default)
        for rule in reversed(chosen):  # higher priority last, so it wins
            result.update(rule.then)
        return result
