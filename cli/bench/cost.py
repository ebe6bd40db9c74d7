"""What one order costs each process of the stack, read from `/proc` around a measured run.

Throughput alone hides where the time goes (the dev server, a worker, the API); CPU
seconds per process divided by the orders run say it per order, and survive a noisy
machine better than wall time. History size says what crosses Temporal for each order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from cli.processes import Supervisor

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CLIENT = "bench (client)"  # this process: the bench's HTTP client, and the baseline's worker


@dataclass(frozen=True)
class ProcessSample:
    cpu_s: float
    rss_mb: float


def sample(pid: int) -> ProcessSample | None:
    """CPU seconds (user + system, with reaped children) and resident memory of one process;
    None when it is gone or `/proc` is not there (not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            rss_kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
    except (OSError, StopIteration, ValueError):
        return None
    # fields[0] is the state (field 3); utime, stime, cutime, cstime are fields 14-17
    ticks = sum(int(v) for v in fields[11:15])
    return ProcessSample(cpu_s=ticks / TICKS, rss_mb=rss_kb / 1024)


def snapshot(sup: Supervisor) -> dict[str, ProcessSample]:
    """Every live child of the stack by name, and this process as `CLIENT`."""
    out: dict[str, ProcessSample] = {}
    for child in sup.children:
        found = sample(child.proc.pid)
        if found is not None:
            out[child.name] = found
    own = sample(os.getpid())
    if own is not None:
        out[CLIENT] = own
    return out


def cpu_ms_per_order(before: dict[str, ProcessSample], after: dict[str, ProcessSample],
                     orders: int) -> dict[str, float]:
    """CPU milliseconds per order for each process alive through the run, and their total."""
    per = {name: round((after[name].cpu_s - before[name].cpu_s) * 1000 / orders, 2)
           for name in after if name in before and orders}
    per["total"] = round(sum(per.values()), 2)
    return per


def _payload_bytes(message: Message) -> int:
    """Bytes of every Payload inside a history event, found by walking its set fields."""
    if isinstance(message, Payload):
        return message.ByteSize()
    total = 0
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if field.is_repeated:
            items: Iterable[Message] = value.values() if hasattr(value, "values") else value
            total += sum(_payload_bytes(v) for v in items if isinstance(v, Message))
        else:
            total += _payload_bytes(value)
    return total


async def history_cost(client: Client, workflow_ids: list[str]) -> dict[str, float]:
    """History events and payload bytes of the given workflows (an order and its parcels),
    with the serialised history size beside them."""
    events = payload = size = 0
    for wid in workflow_ids:
        history = await client.get_workflow_handle(wid).fetch_history()
        events += len(history.events)
        for event in history.events:
            payload += _payload_bytes(event)
            size += event.ByteSize()
    return {"events": events, "payload_bytes": payload, "history_bytes": size}
