"""The process that runs durable_rules, one JSON request (a batch of facts) per line on stdin.

The engine's C core has crashed whole processes on some call sequences and is not
thread-safe, so it lives here, away from the worker: a crash costs one retried
evaluation, never a worker. Host timer threads are never started.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from durable import engine  # type: ignore[import-untyped]


class _QuietHost(engine.Host):  # type: ignore[misc]
    """A Host with no background dispatch threads; actions only record their rule's name."""

    def __init__(self) -> None:
        self.fired: list[str] = []
        super().__init__()

    def _run(self) -> None:  # no timer threads: they race callers
        return None

    def get_action(self, action_name: str) -> Any:
        def record(_: Any) -> None:
            self.fired.append(action_name)

        return record


def serve(stdin: Any = sys.stdin, stdout: Any = sys.stdout) -> None:
    host = _QuietHost()
    registered: set[str] = set()
    sid = 0
    for raw in stdin:
        request = json.loads(raw)
        name = request["name"]
        try:
            if name not in registered:
                host.set_rulesets({name: request["definition"]})
                registered.add(name)
            fired: list[list[str]] = []
            for fact in request["facts"]:
                sid += 1
                host.fired = []
                host.assert_fact(name, {**fact, "sid": str(sid)})
                host.delete_state(name, str(sid))
                fired.append(host.fired)
            reply: dict[str, Any] = {"fired": fired}
        except Exception as exc:  # the caller turns this into a rules error
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()

if __name__ == "__main__":
    serve()
