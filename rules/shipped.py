"""The outcome a shipped rule file gives when no rule fires (its `default:`), as its model:
for benchmarks, demos and tests that need a realistic decision without an engine. The rule
file stays the one place those values are written."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

from domain.rulesets import RuleOutcome, outcome_model

RULES_DIR = Path(__file__).resolve().parent
OutcomeT = TypeVar("OutcomeT", bound=RuleOutcome)


@cache
def _default(ruleset: str) -> dict[str, Any]:
    data = yaml.safe_load((RULES_DIR / f"{ruleset}.yaml").read_text(encoding="utf-8"))
    return dict(data["default"])


def default_outcome(model: type[OutcomeT], ruleset: str, **overrides: Any) -> OutcomeT:
    """`default_outcome(SplitOutcome, "split", max_parcel_weight_g=1000)`."""
    if outcome_model(ruleset) is not model:
        raise TypeError(f"rule set '{ruleset}' answers {outcome_model(ruleset).__name__}, "
                        f"not {model.__name__}")
    return model.model_validate({**_default(ruleset), **overrides})
