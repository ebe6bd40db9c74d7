"""A simulator's memory on disk, so that a restarted simulator resumes where it stopped.

A real payment gateway still knows yesterday's authorisations after it restarts, and a real
carrier still knows the waybills it issued; simulators that forgot them made Ordo's "run it
again and it resumes" untrue (captures failed with "no live authorisation"). Each simulator
keeps its records in one SQLite file under `var/sim/` (the `ORDO_SIM_STATE_DIR` directory),
written through on every change; without a directory (tests, the benchmark) the same code
runs on an in-memory database.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
                                    PRIMARY KEY (kind, key))
"""


def state_dir() -> Path | None:
    """Where simulators keep their state, from the environment (empty: in memory only)."""
    value = os.environ.get("ORDO_SIM_STATE_DIR", "")
    return Path(value) if value else None


class SimState:
    """One simulator's SQLite file; hands out record maps and counters that write through."""

    def __init__(self, name: str, directory: Path | None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{name}.sqlite3" if directory is not None else None
        self._db = sqlite3.connect(str(self.path) if self.path else ":memory:", isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL survives a killed process; only a power cut may lose the last write
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)

    def records(self, kind: str) -> Records:
        return Records(self, kind)

    def counter(self, kind: str, start: int) -> Counter:
        return Counter(self, kind, start)

    def _load(self, kind: str) -> Iterator[tuple[str, str]]:
        yield from self._db.execute("SELECT key, body FROM records WHERE kind = ?", (kind,))

    def _put(self, kind: str, key: str, body: str) -> None:
        self._db.execute("INSERT INTO records (kind, key, body) VALUES (?, ?, ?) "
                         "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body", (kind, key, body))

    def _delete(self, kind: str, key: str | None = None) -> None:
        if key is None:
            self._db.execute("DELETE FROM records WHERE kind = ?", (kind,))
        else:
            self._db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))


def _encode(key: Hashable) -> str:
    return json.dumps(list(key)) if isinstance(key, tuple) else str(key)


def _decode(text: str) -> Any:
    return tuple(json.loads(text)) if text.startswith("[") else text


class Records(dict[Any, Any]):
    """A dict whose assignments reach the disk. A record changed in place (a status set, a
    route step appended) is written by `save(key)`: the simulator says when a change is whole."""

    def __init__(self, state: SimState, kind: str) -> None:
        super().__init__((_decode(k), json.loads(b)) for k, b in state._load(kind))
        self._state, self._kind = state, kind

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.save(key)

    def save(self, key: Any) -> None:
        self._state._put(self._kind, _encode(key), json.dumps(self[key], default=str))

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._state._delete(self._kind, _encode(key))

    def clear(self) -> None:
        super().clear()
        self._state._delete(self._kind)


class Counter:
    """`next()` numbers that continue after a restart (waybill numbers, authorisation numbers)."""

    def __init__(self, state: SimState, kind: str, start: int) -> None:
        self._values = state.records("counter")
        self._kind = kind
        if kind not in self._values:
            self._values[kind] = start

    def __iter__(self) -> Counter:
        return self

    def __next__(self) -> int:
        value = int(self._values[self._kind])
        self._values[self._kind] = value + 1
        return value

    def restart_at(self, value: int) -> None:
        """A carrier that recycles its numbers (they do): the next number is `value` again."""
        self._values[self._kind] = value
