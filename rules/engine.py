"""Load rule files, evaluate them on durable_rules in a guarded child process.

The worker talks to the engine through `RuleEngine.decide`, which is thread-safe,
restarts a crashed engine process and re-reads rule files when they change. A file that
fails `check` is refused and the last good version of its rule set keeps deciding; each
version that goes live is queued as a change for the append-only rule-change log.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import structlog

from domain.messages import Decision
from rules.check import MAX_ENGINE_PROPERTIES, CheckResult, Problem, check_directory, check_file
from rules.compiler import (
    CATCH_ALL,
    LINES_KEY,
    NOW_KEY,
    TYPE_KEY,
    compile_ruleset,
    content_hash,
    referenced_facts,
)
from rules.diff import diff_rulesets
from rules.format import RuleFile
from rules.reference import fired_rules

log = structlog.get_logger()
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RuleFileError(Exception):
    """A rule file that cannot be loaded; the message names the file, line, rule and why."""


class RuleEngineError(Exception):
    """The engine process failed; the evaluation can be retried."""


def load_rule_file(path: Path) -> RuleFile:
    """The file's rule set if it passes `check`, else RuleFileError listing every problem."""
    result = check_file(path)
    if not result.ok or result.rule_file is None:
        raise RuleFileError("\n".join(str(p) for p in result.problems))
    return result.rule_file


@dataclass(frozen=True)
class LoadedRuleset:
    rule_file: RuleFile
    version: str
    engine_name: str
    definition: dict[str, Any]
    top_facts: frozenset[str]
    line_facts: frozenset[str]

    def outcome(self, fired: list[str]) -> dict[str, Any]:
        return self.rule_file.outcome(fired)

    def engine_fact(self, facts: dict[str, Any], now: int) -> dict[str, Any] | None:
        """Only what the rules look at; None when it exceeds the engine's property limit."""
        fact: dict[str, Any] = {k: facts[k] for k in self.top_facts if k in facts and k != LINES_KEY}
        count = len(fact) + 2
        if LINES_KEY in self.top_facts:
            raw = facts.get(LINES_KEY)
            lines = [{k: ln[k] for k in self.line_facts if k in ln}
                     for ln in (raw if isinstance(raw, list) else []) if isinstance(ln, dict)]
            fact[LINES_KEY] = lines
            count += 1 + sum(len(ln) for ln in lines)
        if count > MAX_ENGINE_PROPERTIES:
            return None
        fact[NOW_KEY] = now
        fact[TYPE_KEY] = self.rule_file.ruleset
        return fact

    def in_firing_order(self, fired: list[str]) -> list[str]:
        """Sorted by priority, each rule once: the engine fires a rule once per `$or` branch
        that matches (found by the generated-rules test)."""
        return sorted({f for f in fired if f != CATCH_ALL}, key=self._rank.__getitem__)

    @functools.cached_property
    def _rank(self) -> dict[str, int]:
        return {r.id: i for i, r in enumerate(self.rule_file.ordered())}


def compile_loaded(rule_file: RuleFile) -> LoadedRuleset:
    version = content_hash(rule_file)
    top, line = referenced_facts(rule_file)
    return LoadedRuleset(
        rule_file=rule_file,
        version=version,
        engine_name=f"{rule_file.ruleset}_{version}",
        definition=compile_ruleset(rule_file, rule_file.ruleset),
        top_facts=top,
        line_facts=line,
    )


def epoch(at: dt.datetime) -> int:
    return int(at.timestamp())


class EngineProcess:
    """One `python -m rules.host` child; every call holds the lock for its round trip."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._registered: set[str] = set()

    def _ensure(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "rules.host"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                cwd=PROJECT_ROOT,
            )
            self._registered = set()
        return self._proc

    def _round_trip(self, loaded: LoadedRuleset, facts: list[dict[str, Any]]) -> list[list[str]]:
        proc = self._ensure()
        request: dict[str, Any] = {"name": loaded.engine_name, "facts": facts, "definition": None}
        if loaded.engine_name not in self._registered:
            request["definition"] = loaded.definition
        stdin: IO[str] = proc.stdin  # type: ignore[assignment]
        stdout: IO[str] = proc.stdout  # type: ignore[assignment]
        try:
            stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
            stdin.flush()
            line = stdout.readline()
        except (BrokenPipeError, OSError) as exc:
            self._proc = None
            raise RuleEngineError(f"rule engine process died: {exc}") from exc
        if not line:
            code = proc.wait()
            self._proc = None
            raise RuleEngineError(f"rule engine process exited with {code}; restarted")
        self._registered.add(loaded.engine_name)
        reply = json.loads(line)
        if "error" in reply:
            raise RuleEngineError(reply["error"])
        return [list(f) for f in reply["fired"]]

    def fire(self, loaded: LoadedRuleset, cases: list[tuple[dict[str, Any], int]],
             batch: int = 500) -> list[tuple[list[str], str]]:
        """(fired rule ids in firing order, evaluator) per (facts, now) case."""
        prepared = [loaded.engine_fact(facts, now) for facts, now in cases]
        to_engine = [f for f in prepared if f is not None]
        fired_engine: list[list[str]] = []
        with self._lock:
            for start in range(0, len(to_engine), batch):
                fired_engine.extend(self._round_trip(loaded, to_engine[start:start + batch]))
        engine_iter = iter(fired_engine)
        out: list[tuple[list[str], str]] = []
        for (facts, now), fact in zip(cases, prepared, strict=True):
            if fact is None:
                out.append((fired_rules(loaded.rule_file, facts, now), "reference"))
            else:
                out.append((loaded.in_firing_order(next(engine_iter)), "durable_rules"))
        return out

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


@dataclass(frozen=True)
class VersionChange:
    """A rule set version going live in this process: one row of the rule-change log."""

    ruleset: str
    version: str
    previous_version: str | None
    loaded_at: dt.datetime
    loaded_by: str
    source: str
    summary: str
    content: dict[str, Any]


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


class RuleEngine:
    def __init__(self, rules_dir: Path, reload_interval: float = 1.0) -> None:
        self.rules_dir = rules_dir
        self._reload_interval = reload_interval
        self._loaded: dict[str, LoadedRuleset] = {}
        self._fingerprint: dict[Path, tuple[float, int]] = {}
        self._checked_at = 0.0
        self._reload_lock = threading.Lock()
        self._changes: list[VersionChange] = []
        self.problems: list[Problem] = []
        self._engine = EngineProcess()
        self.reload()

    def reload(self) -> list[Problem]:
        """Load new or changed files that pass `check`; a refused file keeps its last good version."""
        with self._reload_lock:
            paths = sorted(self.rules_dir.glob("*.yaml"))
            fingerprint = {p: (p.stat().st_mtime, p.stat().st_size) for p in paths}
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                self.problems = []
                for result in check_directory(self.rules_dir):
                    self._take(result)
            self._checked_at = time.monotonic()
            return list(self.problems)

    def _take(self, result: CheckResult) -> None:
        if not result.ok or result.rule_file is None:
            self.problems.extend(result.problems)
            for problem in result.problems:
                log.error("rules.rejected", error=str(problem), kept="last good version")
            return
        loaded = compile_loaded(result.rule_file)
        previous = self._loaded.get(loaded.rule_file.ruleset)
        if previous is not None and previous.version == loaded.version:
            return
        self._loaded[loaded.rule_file.ruleset] = loaded
        change = VersionChange(
            ruleset=loaded.rule_file.ruleset, version=loaded.version,
            previous_version=previous.version if previous else None,
            loaded_at=dt.datetime.now(dt.UTC), loaded_by=_who(), source=str(result.path),
            summary=diff_rulesets(previous.rule_file if previous else None, loaded.rule_file).summary(),
            content=loaded.rule_file.model_dump(mode="json", by_alias=True, exclude={"examples"}),
        )
        self._changes.append(change)
        log.info("rules.loaded", ruleset=change.ruleset, version=change.version,
                 previous=change.previous_version, summary=change.summary, file=result.path.name)

    def take_changes(self) -> list[VersionChange]:
        """Versions that went live since the last call, for the rule-change log."""
        with self._reload_lock:
            changes, self._changes = self._changes, []
        return changes

    def requeue(self, changes: list[VersionChange]) -> None:
        with self._reload_lock:
            self._changes = changes + self._changes

    def ruleset(self, name: str) -> LoadedRuleset:
        if time.monotonic() - self._checked_at > self._reload_interval:
            self.reload()
        try:
            return self._loaded[name]
        except KeyError:
            raise RuleFileError(
                f"no valid rule set '{name}' in {self.rules_dir}: add {name}.yaml and run "
                "`ordo rules check` (see README, 'Rule files')"
            ) from None

    def decide(self, name: str, facts: dict[str, Any], step: str = "",
               at: dt.datetime | None = None) -> Decision:
        loaded = self.ruleset(name)
        decided_at = at or dt.datetime.now(dt.UTC)
        [(fired, evaluator)] = self._engine.fire(loaded, [(facts, epoch(decided_at))])
        return Decision(
            ruleset=name,
            version=loaded.version,
            fired=fired,
            facts=facts,
            outcome=loaded.outcome(fired),
            step=step or name,
            decided_at=decided_at,
            evaluator=evaluator,
        )

    def close(self) -> None:
        self._engine.close()
