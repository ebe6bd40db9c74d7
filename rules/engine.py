"""Load rule files, evaluate them on durable_rules in a guarded child process, explain outcomes.

The worker talks to the engine through `RuleEngine.decide`, which is thread-safe,
restarts a crashed engine process and re-reads rule files when they change, keeping the
last good version of any file that no longer validates.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import structlog
import yaml
from pydantic import ValidationError

from domain.errors import describe
from domain.messages import Decision
from rules.compiler import CATCH_ALL, TYPE_KEY, compile_ruleset, content_hash
from rules.format import RuleFile

log = structlog.get_logger()
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RuleFileError(Exception):
    """A rule file that cannot be loaded; the message names the file, the field and why."""


class RuleEngineError(Exception):
    """The engine process failed; the evaluation can be retried."""


def load_rule_file(path: Path) -> RuleFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return RuleFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{e.field}: {e.reason}" for e in describe(exc))
        raise RuleFileError(f"{path}: {problems}") from exc


@dataclass(frozen=True)
class LoadedRuleset:
    rule_file: RuleFile
    version: str
    engine_name: str
    definition: dict[str, Any]

    def outcome(self, fired: list[str]) -> dict[str, Any]:
        by_id = {r.id: r for r in self.rule_file.rules}
        chosen = [by_id[f] for f in fired]
        if self.rule_file.hit_policy == "first":
            chosen = chosen[:1]
        result = dict(self.rule_file.default)
        for rule in reversed(chosen):  # higher priority last, so it wins
            result.update(rule.then)
        return result


def compile_loaded(rule_file: RuleFile) -> LoadedRuleset:
    version = content_hash(rule_file)
    return LoadedRuleset(
        rule_file=rule_file,
        version=version,
        engine_name=f"{rule_file.ruleset}_{version}",
        definition=compile_ruleset(rule_file, rule_file.ruleset),
    )


class _EngineProcess:
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

    def evaluate(self, loaded: LoadedRuleset, fact: dict[str, Any]) -> list[str]:
        with self._lock:
            proc = self._ensure()
            request = {"name": loaded.engine_name, "fact": fact, "definition": None}
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
            return list(reply["fired"])

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


class RuleEngine:
    def __init__(self, rules_dir: Path, reload_interval: float = 1.0) -> None:
        self.rules_dir = rules_dir
        self._reload_interval = reload_interval
        self._loaded: dict[str, LoadedRuleset] = {}
        self._mtimes: dict[Path, float] = {}
        self._checked_at = 0.0
        self._reload_lock = threading.Lock()
        self._engine = _EngineProcess()
        self.reload()

    def reload(self) -> list[str]:
        """Load new or changed files; a file that fails keeps its last good version."""
        problems: list[str] = []
        with self._reload_lock:
            for path in sorted(self.rules_dir.glob("*.yaml")):
                mtime = path.stat().st_mtime
                if self._mtimes.get(path) == mtime:
                    continue
                self._mtimes[path] = mtime
                try:
                    loaded = compile_loaded(load_rule_file(path))
                except RuleFileError as exc:
                    problems.append(str(exc))
                    log.error("rules.rejected", error=str(exc), kept="last good version")
                    continue
                previous = self._loaded.get(loaded.rule_file.ruleset)
                if previous is None or previous.version != loaded.version:
                    log.info("rules.loaded", ruleset=loaded.rule_file.ruleset,
                             version=loaded.version, file=path.name)
                self._loaded[loaded.rule_file.ruleset] = loaded
            self._checked_at = time.monotonic()
        return problems

    def ruleset(self, name: str) -> LoadedRuleset:
        if time.monotonic() - self._checked_at > self._reload_interval:
            self.reload()
        try:
            return self._loaded[name]
        except KeyError:
            raise RuleFileError(
                f"no valid rule set '{name}' in {self.rules_dir}: add {name}.yaml "
                "(see README, 'Rule files')"
            ) from None

    def decide(self, name: str, facts: dict[str, Any], step: str = "") -> Decision:
        loaded = self.ruleset(name)
        fired_raw = self._engine.evaluate(loaded, {**facts, TYPE_KEY: name})
        order = {r.id: i for i, r in enumerate(loaded.rule_file.ordered())}
        fired = sorted((f for f in fired_raw if f != CATCH_ALL), key=order.__getitem__)
        return Decision(
            ruleset=name,
            version=loaded.version,
            fired=fired,
            facts=facts,
            outcome=loaded.outcome(fired),
            step=step or name,
        )

    def close(self) -> None:
        self._engine.close()
