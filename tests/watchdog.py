"""Where a stuck test waits, printed before pytest-timeout fails it.

pytest-timeout's own dump shows threads, and an asyncio test that hangs shows only the
event loop's select(); the await that never returns is in a task's stack. A test that
runs past `STUCK_AFTER_SECONDS` gets every task's stack on stderr, so a hang in CI says
where it hung instead of only that it did.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator

STUCK_AFTER_SECONDS = 240.0


def dump_tasks(test: str) -> None:
    out = sys.__stderr__ or sys.stderr
    print(f"\n==== {test} still running after {STUCK_AFTER_SECONDS:.0f}s; asyncio tasks:", file=out)
    every_loops_tasks = vars(asyncio.tasks)["_all_tasks"]  # all_tasks() needs the loop's own thread
    for task in list(every_loops_tasks):
        if task.done():
            continue
        print(f"--- {task.get_name()}", file=out)
        for line in await_chain(task.get_coro()):
            print(f"    {line}", file=out)
    out.flush()


def await_chain(awaitable: object) -> list[str]:
    """The task's stack down to what it awaits (a task's own stack stops at its top frame)."""
    lines = []
    while awaitable is not None:
        frame = next((getattr(awaitable, a) for a in ("cr_frame", "gi_frame", "ag_frame")
                      if getattr(awaitable, a, None) is not None), None)
        if frame is None:
            lines.append(f"awaiting {awaitable!r:.200}")
            break
        lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        awaitable = next((getattr(awaitable, a) for a in ("cr_await", "gi_yieldfrom", "ag_await")
                          if getattr(awaitable, a, None) is not None), None)
    return lines


def watch(test: str) -> Iterator[None]:
    timer = threading.Timer(STUCK_AFTER_SECONDS, dump_tasks, args=(test,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
