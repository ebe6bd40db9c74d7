"""The rule-file format as JSON Schema (`ordo rules schema`), for editors: validation and
autocompletion of fields, fact names and rule set names."""

from __future__ import annotations

from typing import Any

from domain.rulesets import LINE_FACTS, RULESETS
from rules.format import RuleFile


def rule_file_schema() -> dict[str, Any]:
    schema = RuleFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Ordo rule file"
    facts = sorted({name for spec in RULESETS.values() for name in spec.facts} | set(LINE_FACTS))
    condition = schema["$defs"]["Condition"]["properties"]
    condition["fact"] = {
        "anyOf": [{"type": "string", "enum": facts}, {"type": "null"}],
        "description": "a fact of the rule set (inside any_line/all_lines: a line fact)",
    }
    schema["properties"]["ruleset"]["enum"] = sorted(RULESETS)
    return schema
