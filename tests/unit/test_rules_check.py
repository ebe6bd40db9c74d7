"""Every way an operator can break a rule file gives a precise error: file, line, column,
rule and what is wrong. The shipped files pass, and validate against the published schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from config.settings import PROJECT_ROOT
from rules.check import Problem, check_directory, check_text
from rules.schema import rule_file_schema

RULES = PROJECT_ROOT / "rules"

BASE = """\
ruleset: priority
hit_policy: first
default: {lane: standard, sla_hours: 48, review: "", unpaid_hold_minutes: 30}
rules:
  - id: vip
    priority: 10
    when:
      - {fact: customer_tier, in: [gold, platinum]}
    then: {lane: express, sla_hours: 12}
  - id: big
    priority: 20
    when:
      - {fact: total_minor, gte: 200000}
    then: {lane: express}
"""


def problems(text: str) -> list[Problem]:
    return check_text(text, Path("rules/priority.yaml")).problems


def only(text: str) -> Problem:
    found = [p for p in problems(text) if not p.message.startswith("missing field")]
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_the_base_file_and_the_shipped_files_pass() -> None:
    assert problems(BASE) == []
    results = check_directory(RULES)
    assert {r.rule_file.ruleset for r in results if r.rule_file} == {"priority", "split", "carriers",
                                                                     "exceptions", "transfers", "returns"}
    assert [str(p) for r in results for p in r.problems] == []


def test_a_default_that_leaves_out_an_outcome_key_is_an_error_not_a_fallback_in_code() -> None:
    """No outcome key has a default in code: the rule file's `default:` must give every one."""
    found = only(BASE.replace(', unpaid_hold_minutes: 30}', '}'))
    assert (found.line, found.message) == (3, "default unpaid_hold_minutes: field required")


def test_every_shipped_rule_has_an_example_that_fires_it() -> None:
    for result in check_directory(RULES):
        assert result.rule_file is not None
        exercised = {r for ex in result.rule_file.examples for r in (ex.expect.fired or [])}
        assert {r.id for r in result.rule_file.rules} <= exercised, result.path


@pytest.mark.parametrize(("broken", "line", "column", "rule", "message"), [
    (BASE.replace("    priority: 20", "    prority: 20"), 11, 5, "big",
     "unknown field 'prority' (did you mean 'priority'?)"),
    (BASE.replace("priority: 20", "priority: twenty"), 11, 15, "big",
     "rules.1.priority: input should be a valid integer, unable to parse string as an integer "
     "(got 'twenty')"),
    (BASE.replace("id: big", "id: vip"), 10, 9, "vip", "two rules have the id 'vip'"),
    (BASE.replace("fact: total_minor", "fact: total"), 13, 16, "big",
     "unknown fact 'total': this rule set has no such fact (did you mean 'total_minor'?)"),
    (BASE.replace("gte: 200000", "gte: 1999.5"), 13, 34, "big",
     "'total_minor' is a whole number; 1999.5 is not (money is compared in fen, whole numbers"),
    (BASE.replace("gte: 200000}", "eq: '200000'}"), 13, 33, "big",
     "'total_minor' is int, but the rule compares it with '200000' (str)"),
    (BASE.replace("[gold, platinum]", "[gold, diamond]"), 8, 42, "vip",
     "'diamond' is not a possible value of 'customer_tier'; possible: regular, silver, gold, platinum"),
    (BASE.replace("{fact: total_minor, gte: 200000}", "{fact: channel, matches: 'tm(all'}"), 13, 34, "big",
     "`matches`: not a valid regular expression"),
    (BASE.replace("then: {lane: express}", "then: {lnae: express}"), 14, 12, "big",
     "unknown outcome key 'lnae' (did you mean 'lane'?); priority outcomes are lane, sla_hours, review"),
    (BASE.replace("then: {lane: express}", "then: {lane: superfast}"), 14, 18, "big",
     "then.lane: input should be 'express', 'standard' or 'economy' (got 'superfast')"),
    (BASE.replace("{fact: total_minor, gte: 200000}", "{fact: customer_tier, eq: gold}"), 11, 15, "big",
     "never fires: rule 'vip' (priority 10) comes first and matches every order this rule matches"),
    (BASE.replace("    priority: 20\n", "    priority: 20\n    effective_from: 2026-11-13\n"
                  "    effective_until: 2026-11-10\n"), 10, 5, "big",
     "effective_until must be after effective_from"),
    (BASE.replace("ruleset: priority", "ruleset: priorty"), 1, 10, "",
     "unknown rule set 'priorty' (did you mean 'priority'?)"),
    (BASE.replace("  - id: big\n", "  - id: big\n    id: big2\n"), 11, 5, "",
     "'id' is written twice in the same block"),
    (BASE.replace("      - {fact: total_minor, gte: 200000}", "      - {fact: total_minor gte: 200000}"),
     13, 31, "", "not valid YAML: expected ',' or '}', but got ':'"),
    (BASE.replace("{fact: total_minor, gte: 200000}", "{fact: has_frozen, gt: 1}"), 13, 32, "big",
     "`gt` compares numbers; 'has_frozen' is bool"),
    (BASE.replace("{fact: total_minor, gte: 200000}", "{fact: total_minor, gte: 1, lte: 5}"), 13, 9, "big",
     "needs exactly one operator"),
    (BASE.replace("{fact: total_minor, gte: 200000}",
                  "{any_line: [{fact: temperatur, eq: frozen}]}"), 13, 28, "big",
     "unknown fact 'temperatur': a line has no such fact (did you mean 'temperature'?)"),
    (BASE + "examples:\n  - {name: x, given: {customer_tier: gold}, expect: {fired: [vipp]}}\n", 16, 61, "",
     "example 'x' expects rule 'vipp', which is not in this file (did you mean 'vip'?)"),
])
def test_each_way_of_breaking_a_file_is_named_precisely(
        broken: str, line: int, column: int, rule: str, message: str) -> None:
    problem = only(broken)
    where = (problem.file, problem.line, problem.column, problem.rule)
    assert where == ("rules/priority.yaml", line, column, rule)
    assert message in problem.message
    assert str(problem).startswith(f"rules/priority.yaml:{line}:{column}: ")


def test_collect_rules_whose_every_key_is_overridden_have_no_effect() -> None:
    text = BASE.replace("hit_policy: first", "hit_policy: collect").replace(
        "{fact: total_minor, gte: 200000}", "{fact: customer_tier, eq: gold}")
    problem = only(text)
    assert problem.rule == "big" and "has no effect: higher-priority rules 'vip'" in problem.message
    # a lower rule that sets a key the higher one does not is fine
    assert problems(text.replace("then: {lane: express}", "then: {lane: express, review: gold check}")) == []


def test_a_rule_too_complex_for_the_engine_is_refused_with_advice() -> None:
    many = ", ".join(f"{{fact: quantity, in: [{i}, {i + 100}, {i + 200}]}}" for i in range(6))
    text = BASE.replace("{fact: total_minor, gte: 200000}", f"{{all_lines: [{many}]}}")
    problem = only(text)
    assert problem.rule == "big" and "more than the 30 the engine allows" in problem.message


def test_the_published_schema_accepts_shipped_files_and_rejects_typos() -> None:
    schema = rule_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(RULES.glob("*.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        assert list(validator.iter_errors(data)) == [], path
    bad = yaml.safe_load(BASE.replace("fact: total_minor", "fact: totl_minor"))
    assert any("totl_minor" in e.message for e in validator.iter_errors(bad))
