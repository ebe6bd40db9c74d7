"""`ordo rules check`: every way a rule file can be wrong, each named with file, line,
column and rule, in words an operator can act on. Workers load only files that pass.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from domain.rulesets import LINE_FACTS, RULESETS, FactSpec, RulesetSpec
from rules.compiler import TooComplex, compile_ruleset
from rules.format import Condition, Example, Expectation, Rule, RuleFile
from rules.implication import rule_implies
from rules.yaml_source import Position, YamlDocument, parse

MAX_ENGINE_PROPERTIES = 255


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"rule '{self.rule}': " if self.rule else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


@dataclass
class CheckResult:
    path: Path
    rule_file: RuleFile | None
    problems: list[Problem]
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.rule_file is not None and not self.problems


class _Reporter:
    def __init__(self, path: Path, doc: YamlDocument | None) -> None:
        self.path, self.doc = path, doc
        self.problems: list[Problem] = []

    def rule_id(self, loc: tuple[str | int, ...]) -> str:
        if self.doc is None or len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
            return ""
        rules = self.doc.data.get("rules") if isinstance(self.doc.data, dict) else None
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            return str(rules[loc[1]].get("id", f"#{loc[1] + 1}"))
        return ""

    def add(self, loc: tuple[str | int, ...], message: str, at: Position | None = None,
            key: bool = False) -> None:
        pos = at or (self.doc.position(loc, key) if self.doc else Position(1, 1))
        self.problems.append(Problem(str(self.path), pos.line, pos.column, self.rule_id(loc), message))


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close and len(word) >= 3:
        close = [c for c in choices if word in c][:1]
    return f" (did you mean '{close[0]}'?)" if close else ""


_UNION_TAGS = {"str", "int", "bool", "float", "list[...]", "date", "datetime"}


def _pydantic_problems(exc: ValidationError, rep: _Reporter, data: Any) -> None:
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p)))
        kind, msg = err["type"], err["msg"]
        if kind == "value_error":
            msg = msg.removeprefix("Value error, ")
            if where := re.match(r"rules\[(\d+)\]: ", msg):  # a file-level check about one rule
                loc, msg = ("rules", int(where.group(1)), "id"), msg[where.end():]
        last = loc[-1] if loc else ""
        if kind == "extra_forbidden":
            known = _model_fields(loc, data)
            rep.add(loc, f"unknown field '{last}'{_suggest(str(last), known)}", key=True)
            continue
        elif kind == "missing":
            message = f"missing field '{last}'"
        elif kind == "value_error":
            message = msg
        elif kind == "string_pattern_mismatch" and last in ("id", "ruleset"):
            message = f"'{last}' must be lower-case letters, digits, '-' or '_' ({msg.lower()})"
        else:
            message = f"{'.'.join(str(p) for p in loc) or 'file'}: {msg[0].lower() + msg[1:]}"
            if kind.endswith("_type") or kind.endswith("_parsing"):
                message += f" (got {err.get('input')!r})"
        rep.add(loc, message)


def _model_fields(loc: tuple[str | int, ...], data: Any) -> list[str]:
    names = [str(p) for p in loc if isinstance(p, str)]
    parent = names[-2] if len(names) >= 2 else ""
    model: type[BaseModel] = RuleFile
    if parent in ("rules",):
        model = Rule
    elif parent in ("when", "any", "all", "any_line", "all_lines"):
        model = Condition
    elif parent == "examples":
        model = Example
    elif parent == "expect":
        model = Expectation
    return [f.alias or n for n, f in model.model_fields.items()]


# ---- meaning ---------------------------------------------------------------------

_TYPE_OF = {"int": (int,), "str": (str,), "bool": (bool,)}


def _value_ok(spec: FactSpec, value: Any) -> bool:
    if spec.type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPE_OF.get(spec.type, (object,)))


def _check_condition(cond: Condition, loc: tuple[str | int, ...], facts: dict[str, FactSpec],
                     line_facts: dict[str, FactSpec], in_line: bool, rep: _Reporter) -> None:
    grouped = cond.group()
    if grouped is not None:
        name, members = grouped
        if name in ("any_line", "all_lines"):
            if in_line:
                rep.add(loc, f"`{name}` cannot be used inside another line group")
                return
            if "lines" not in facts:
                rep.add(loc, f"`{name}`: this rule set has no order lines to look at")
                return
        inner = in_line or name in ("any_line", "all_lines")
        for i, member in enumerate(members):
            _check_condition(member, (*loc, name, i), facts, line_facts, inner, rep)
        return
    vocabulary = line_facts if in_line else facts
    fact = cond.fact or ""
    spec = vocabulary.get(fact)
    where = "a line" if in_line else "this rule set"
    if spec is None:
        rep.add((*loc, "fact"), f"unknown fact '{fact}': {where} has no such fact"
                f"{_suggest(fact, list(vocabulary))}; known: {', '.join(sorted(vocabulary))}")
        return
    if spec.type == "list":
        rep.add((*loc, "fact"), f"'{fact}' is a list: use any_line / all_lines to test its items")
        return
    op = cond.operator() or ""
    value = cond.value_of(op)
    values = value if op in ("in", "not_in") else [value]
    if op == "exists":
        return
    if op == "matches":
        if spec.type != "str":
            rep.add((*loc, op), f"`matches` needs a text fact; '{fact}' is {spec.type}")
            return
        try:
            re.compile(value)
        except re.error as exc:
            rep.add((*loc, op), f"`matches`: not a valid regular expression: {exc}")
        return
    if op in ("gt", "gte", "lt", "lte") and spec.type != "int":
        rep.add((*loc, op), f"`{op}` compares numbers; '{fact}' is {spec.type}")
        return
    for i, v in enumerate(values):
        at = (*loc, op, i) if op in ("in", "not_in") else (*loc, op)
        if isinstance(v, float) and spec.type == "int":
            hint = " (money is compared in fen, whole numbers: 99.50 yuan is 9950)" \
                if fact.endswith("_minor") else ""
            rep.add(at, f"'{fact}' is a whole number; {v!r} is not{hint}")
        elif not _value_ok(spec, v):
            rep.add(at, f"'{fact}' is {spec.type}, but the rule compares it with {v!r} "
                    f"({type(v).__name__})")
        elif spec.values and spec.normalise(v) not in spec.values:
            rep.add(at, f"'{v}' is not a possible value of '{fact}'"
                    f"{_suggest(str(v), list(spec.values))}; possible: {', '.join(spec.values)}")


def _check_outcome(spec: RulesetSpec, rule_file: RuleFile, rep: _Reporter) -> None:
    try:
        spec.outcome.model_validate(rule_file.default)
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                what = f"unknown outcome key{_suggest(key, list(spec.outcome.model_fields))}"
            else:
                what = err["msg"].lower()
            rep.add(("default", *err["loc"]), f"default {key}: {what}")
        return
    fields = list(spec.outcome.model_fields)
    for i, rule in enumerate(rule_file.rules):
        for key in rule.then:
            if key not in fields:
                rep.add(("rules", i, "then", key), f"unknown outcome key '{key}'{_suggest(key, fields)};"
                        f" {spec.name} outcomes are {', '.join(fields)}", key=True)
        try:
            spec.outcome.model_validate({**rule_file.default, **{k: v for k, v in rule.then.items()
                                                                   if k in fields}})
        except ValidationError as exc:
            for err in exc.errors():
                rep.add(("rules", i, "then", *err["loc"]),
                        f"then.{'.'.join(str(p) for p in err['loc'])}: {err['msg'].lower()}"
                        f" (got {err.get('input')!r})")


def _check_shadowing(rule_file: RuleFile, rep: _Reporter) -> None:
    index = {r.id: i for i, r in enumerate(rule_file.rules)}
    ordered = rule_file.ordered()
    for pos, rule in enumerate(ordered):
        covering = [a for a in ordered[:pos] if rule_implies(rule, a)]
        if not covering:
            continue
        loc = ("rules", index[rule.id], "priority")
        if rule_file.hit_policy == "first":
            a = covering[0]
            rep.add(loc, f"never fires: rule '{a.id}' (priority {a.priority}) comes first and matches "
                    "every order this rule matches; give this rule a lower priority number or narrow "
                    f"'{a.id}'")
        else:
            keys = set().union(*(a.then for a in covering))
            if set(rule.then) <= keys:
                rep.add(loc, "has no effect: higher-priority rules "
                        f"{', '.join(repr(a.id) for a in covering)} always fire with it and set every key "
                        "it sets")


def _check_examples(spec: RulesetSpec, rule_file: RuleFile, rep: _Reporter) -> None:
    ids = {r.id for r in rule_file.rules}
    for i, ex in enumerate(rule_file.examples):
        for fact in ex.given:
            if fact not in spec.facts:
                rep.add(("examples", i, "given", fact),
                        f"example '{ex.name}': unknown fact '{fact}'{_suggest(fact, list(spec.facts))}",
                        key=True)
        for fired in ex.expect.fired or []:
            if fired not in ids:
                rep.add(("examples", i, "expect", "fired"),
                        f"example '{ex.name}' expects rule '{fired}', which is not in this file"
                        f"{_suggest(fired, sorted(ids))}")
        for key in ex.expect.outcome or {}:
            if key not in spec.outcome.model_fields:
                rep.add(("examples", i, "expect", "outcome", key),
                        f"example '{ex.name}': unknown outcome key '{key}'")


def check_rule_file(rule_file: RuleFile, rep: _Reporter) -> None:
    """Checks of meaning on a file that parsed: facts, values, outcomes, shadowing."""
    spec = RULESETS.get(rule_file.ruleset)
    if spec is None:
        rep.add(("ruleset",), f"unknown rule set '{rule_file.ruleset}'"
                f"{_suggest(rule_file.ruleset, list(RULESETS))}; Ordo asks {', '.join(RULESETS)}")
        return
    line_facts = LINE_FACTS if "lines" in spec.facts else {}
    for i, rule in enumerate(rule_file.rules):
        for j, cond in enumerate(rule.when):
            _check_condition(cond, ("rules", i, "when", j), spec.facts, line_facts, False, rep)
    _check_outcome(spec, rule_file, rep)
    _check_shadowing(rule_file, rep)
    for i, rule in enumerate(rule_file.rules):
        try:
            compile_ruleset(rule_file.model_copy(update={"rules": [rule]}), rule_file.ruleset)
        except TooComplex as exc:
            rep.add(("rules", i, "when"), str(exc).split(": ", 1)[1])
    _check_examples(spec, rule_file, rep)


def check_text(text: str, path: Path) -> CheckResult:
    try:
        doc = parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        rep = _Reporter(path, None)
        pos = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        rep.add((), f"not valid YAML: {getattr(exc, 'problem', None) or exc}", at=pos)
        return CheckResult(path, None, rep.problems, text)
    rep = _Reporter(path, doc)
    for key, pos in doc.duplicates:
        rep.add((), f"'{key}' is written twice in the same block; only the last would count", at=pos)
    if not isinstance(doc.data, dict):
        rep.add((), "a rule file is a mapping with `ruleset`, `hit_policy`, `default` and `rules`")
        return CheckResult(path, None, rep.problems, text)
    try:
        rule_file = RuleFile.model_validate(doc.data)
    except ValidationError as exc:
        _pydantic_problems(exc, rep, doc.data)
        return CheckResult(path, None, rep.problems, text)
    check_rule_file(rule_file, rep)
    return CheckResult(path, rule_file, rep.problems, text)


def check_file(path: Path) -> CheckResult:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return CheckResult(path, None, [Problem(str(path), 1, 1, "", f"cannot read the file: {exc}")])
    return check_text(text, path)


def rule_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.yaml")) if path.is_dir() else [path]


def check_directory(path: Path) -> list[CheckResult]:
    """Every file, plus the one check across files: two files for the same rule set."""
    results = [check_file(p) for p in rule_files(path)]
    owners: dict[str, Path] = {}
    for result in results:
        if result.rule_file is None:
            continue
        name = result.rule_file.ruleset
        if name in owners:
            pos = Position(1, 1)
            result.problems.append(Problem(str(result.path), pos.line, pos.column, "",
                                           f"rule set '{name}' is already defined in {owners[name]}"))
        else:
            owners[name] = result.path
    return results
