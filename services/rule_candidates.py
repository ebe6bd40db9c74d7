"""The rules page's what-if: check a candidate rule file, simulate it over recorded orders,
and publish it. Publishing writes the file into the rule folder the workers hot-reload
(atomically: a worker never reads half a file); the workers log the version that goes live
in the rule-change log, and the publish itself is in the audit trail with who and why."""

from __future__ import annotations

import asyncio
import difflib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Permission, Principal
from domain.records import RuleVersionRecord
from rules.check import CheckResult, check_directory, check_text
from rules.compiler import content_hash
from rules.diff import diff_rulesets
from rules.format import RuleFile
from services.access import require
from services.audit import Audit
from services.errors import Invalid
from store import decisions


class RuleProblem(BaseModel):
    line: int
    column: int
    rule: str
    message: str


class Checked(BaseModel):
    ok: bool
    ruleset: str
    version: str
    problems: list[RuleProblem]
    diff: str  # unified diff against the file in force
    summary: str  # rule by rule: what changed


class RuleFileView(BaseModel):
    file: str
    ruleset: str
    version: str
    text: str


class Published(BaseModel):
    ruleset: str
    version: str
    file: str
    summary: str


def in_force(rules_dir: Path) -> dict[str, CheckResult]:
    return {r.rule_file.ruleset: r for r in check_directory(rules_dir) if r.rule_file is not None}


def files(who: Principal, rules_dir: Path) -> list[RuleFileView]:
    require(who, Permission.RULES_READ)
    return [RuleFileView(file=r.path.name, ruleset=name, version=content_hash(r.rule_file), text=r.text or "")
            for name, r in sorted(in_force(rules_dir).items()) if r.rule_file is not None]


def _check(text: str, rules_dir: Path) -> tuple[CheckResult, Checked]:
    result = check_text(text, Path("candidate.yaml"))
    problems = [RuleProblem(line=p.line, column=p.column, rule=p.rule, message=p.message)
                for p in result.problems]
    if result.rule_file is None:
        return result, Checked(ok=False, ruleset="", version="", problems=problems, diff="", summary="")
    name = result.rule_file.ruleset
    current = in_force(rules_dir).get(name)
    old_text = current.text or "" if current else ""
    diff = "".join(difflib.unified_diff(old_text.splitlines(keepends=True), text.splitlines(keepends=True),
                                        fromfile=f"{name} in force", tofile=f"{name} candidate"))
    summary = diff_rulesets(current.rule_file if current else None, result.rule_file).summary()
    return result, Checked(ok=result.ok, ruleset=name, version=content_hash(result.rule_file),
                           problems=problems, diff=diff, summary=summary)


def check(who: Principal, rules_dir: Path, text: str) -> Checked:
    require(who, Permission.RULES_READ)
    return _check(text, rules_dir)[1]


async def simulate(who: Principal, db: AsyncEngine, rules_dir: Path, text: str, last: int) -> dict[str, Any]:
    """Re-decide the last `last` recorded orders with the candidate: which decisions change,
    how many, with sample orders (the same engine and report as `ordo rules simulate`)."""
    require(who, Permission.RULES_READ)
    result, checked = _check(text, rules_dir)
    if not checked.ok or result.rule_file is None:
        raise Invalid("the candidate does not pass check; fix the problems listed first",
                      problems=[p.model_dump() for p in checked.problems])
    # Loaded here, not at import: the API process starts the rule engine only when someone
    # simulates a candidate (tests/unit/test_activity_contracts.py holds the API to that).
    from rules.engine import EngineProcess, compile_loaded  # noqa: PLC0415
    from rules.simulate import Simulator  # noqa: PLC0415

    engine = EngineProcess()
    simulator = Simulator({checked.ruleset: compile_loaded(result.rule_file)}, engine)
    try:
        async for rows in decisions.past_decisions(db, None, last):
            await asyncio.to_thread(simulator.feed, rows)
    finally:
        simulator.close()
        engine.close()
    return {"ruleset": checked.ruleset, "version": checked.version, **simulator.report.as_json()}


async def publish(who: Principal, rules_dir: Path, audit: Audit, text: str, reason: str) -> Published:
    require(who, Permission.RULES_PUBLISH)
    result, checked = _check(text, rules_dir)
    if not checked.ok or result.rule_file is None:
        raise Invalid("a candidate that does not pass check cannot be published",
                      problems=[p.model_dump() for p in checked.problems])
    current = in_force(rules_dir).get(checked.ruleset)
    target = current.path if current else rules_dir / f"{checked.ruleset}.yaml"
    fd, tmp = tempfile.mkstemp(dir=rules_dir, prefix=".publish-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, target)  # the workers' hot reload sees the whole new file or the old one
    await audit.write(who, "rules.publish", f"{checked.ruleset}@{checked.version}", reason=reason,
                      file=target.name, summary=checked.summary)
    rule_file = result.rule_file
    # In the rule-change log at once, by whoever published it; a worker that loads it next
    # finds it already the latest version and adds nothing.
    def entry(latest: RuleVersionRecord | None) -> dict[str, Any]:
        before = RuleFile.model_validate(latest.content) if latest else None
        return {"loaded_at": datetime.now(UTC), "loaded_by": who.subject, "source": str(target),
                "summary": diff_rulesets(before, rule_file).summary(),
                "content": rule_file.model_dump(mode="json", by_alias=True, exclude={"examples"})}

    await decisions.log_version(audit.db, checked.ruleset, checked.version, entry, audit.key)
    return Published(ruleset=checked.ruleset, version=checked.version, file=target.name,
                     summary=checked.summary)


def version_text(content: dict[str, Any]) -> str:
    """A logged version's rules as YAML, for a diff between two entries of the log."""
    return yaml.safe_dump(content, allow_unicode=True, sort_keys=False)


async def history(who: Principal, db: AsyncEngine, ruleset: str, limit: int) -> list[dict[str, Any]]:
    """Newest first, each with a unified diff from the version before it."""
    require(who, Permission.RULES_READ)
    found = await decisions.list_versions(db, ruleset, max(1, min(limit, 200)) + 1)
    out = []
    for newer, older in zip(found, [*found[1:], None], strict=False):  # the oldest has none before it
        before = version_text(older.content).splitlines(keepends=True) if older else []
        after = version_text(newer.content).splitlines(keepends=True)
        diff = difflib.unified_diff(before, after, fromfile=older.version if older else "(none)",
                                    tofile=newer.version)
        out.append({**newer.model_dump(mode="json", exclude={"content"}), "diff": "".join(diff)})
    return out[:limit]
