"""The faults `ordo chaos` injects, one scenario each: what it does to the running stack
while a load runs, and what it proves when the checks afterwards find nothing."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from cli.chaos.invariants import SETTLED_NAMES
from cli.chaos.load import Load
from cli.demo.api import OrdoApi
from cli.processes import Child, Supervisor
from config import queues
from config.settings import Settings
from store import orders as order_store

# Simulator faults while the load runs: about 30% of calls fail, half with a 500 (before or
# after the work), the others answer slowly or only after the caller's timeout.
SIM_FAULTS = {"rate": 0.15, "slow_rate": 0.08, "hang_rate": 0.07}


@dataclass
class Chaos:
    """The running stack as the scenarios reach it."""

    settings: Settings
    sup: Supervisor
    api: OrdoApi
    db: AsyncEngine
    client: Client
    events: list[str] = field(default_factory=list)
    held: set[str] = field(default_factory=set)  # children not restarted yet (a longer outage)

    def child(self, name: str) -> Child:
        return next(c for c in self.sup.children if c.name == name)

    def kill(self, name: str) -> int:
        """kill -9, as the OOM killer or a pulled plug does; `ordo chaos` restarts it like `ordo up`."""
        child = self.child(name)
        pid = child.proc.pid
        os.kill(pid, signal.SIGKILL)
        self.events.append(f"kill -9 {name} (pid {pid})")
        return pid

    async def restarted(self, name: str, old_pid: int, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while self.child(name).proc.pid == old_pid or self.child(name).proc.poll() is not None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} was not restarted within {within:.0f}s")
            await asyncio.sleep(0.1)

    async def settle(self, order_ids: list[str], within: float,
                     progress: Callable[[int], None] = lambda done: None) -> None:
        """Until every order is settled, or `within` seconds have passed."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                statuses = await order_store.statuses(self.db, order_ids)
            except (DBAPIError, OSError):  # the database restarting (postgres-restart): ask again
                await asyncio.sleep(0.5)
                continue
            done = sum(1 for s in statuses.values() if s in SETTLED_NAMES)
            progress(done)
            if done == len(order_ids):
                return
            await asyncio.sleep(0.5)

    async def sims(self, method: str, path: str, body: Any, urls: list[str] | None = None) -> list[Any]:
        """The same admin call to each simulator (default: all four); their answers."""
        answers = []
        async with httpx.AsyncClient(timeout=10) as http:
            for url in urls or [self.settings.wms_url, self.settings.carriers_url,
                                self.settings.payments_url, self.settings.channels_url]:
                resp = await http.request(method, f"{url}{path}", json=body)
                resp.raise_for_status()
                answers.append(resp.json())
        return answers


async def answered(load: Load, share: float, total: int) -> None:
    """Wait until `share` of the load has been answered: the fault lands mid-load."""
    await load.wait_answered(max(1, round(share * total)))


Step = Callable[[Chaos, Load, int], Coroutine[Any, Any, str]]


async def _nothing(ctx: Chaos, load: Load, n: int) -> str:
    return ""


@dataclass
class Scenario:
    name: str
    proves: str
    during: Step = _nothing  # runs alongside the load; says what it did
    before: Step = _nothing
    after: Step = _nothing  # runs once the orders have settled (or the wait gave up)
    copies: int = 1
    cannot_run: Callable[[Settings], str] = lambda settings: ""


async def kill_each_worker(ctx: Chaos, load: Load, n: int) -> str:
    for i, q in enumerate(queues.ALL):
        await answered(load, 0.1 + 0.15 * i, n)
        pid = ctx.kill(f"worker-{q}")
        await ctx.restarted(f"worker-{q}", pid)
    return f"kill -9 of each of the {len(queues.ALL)} workers in turn, each restarted"


TEMPORAL_AWAY_SECONDS = 5.0


async def kill_temporal(ctx: Chaos, load: Load, n: int) -> str:
    """Down for a few seconds while orders keep arriving: the API must keep taking them."""
    await answered(load, 0.3, n)
    at = load.answered
    ctx.held.add("temporal")
    pid = ctx.kill("temporal")
    await asyncio.sleep(TEMPORAL_AWAY_SECONDS)
    during = load.answered - at
    ctx.held.discard("temporal")
    await ctx.restarted("temporal", pid)
    return (f"kill -9 of the dev server after {at} answers, restarted {TEMPORAL_AWAY_SECONDS:.0f}s later; "
            f"{during} orders acknowledged while it was away")


async def kill_api(ctx: Chaos, load: Load, n: int) -> str:
    await answered(load, 0.15, n)
    at = load.answered
    pid = ctx.kill("api")
    await ctx.restarted("api", pid)
    return f"kill -9 of the API after {at} of {n} answers; the rest re-sent until answered"


async def faults_on(ctx: Chaos, load: Load, n: int) -> str:
    hang = ctx.settings.http_timeout_seconds + 1
    await ctx.sims("PUT", "/admin/faults", {**SIM_FAULTS, "hang_seconds": hang})
    return ""


async def faults_off(ctx: Chaos, load: Load, n: int) -> str:
    injected = sum(a["injected"] for a in await ctx.sims("PUT", "/admin/faults", {}))
    return f"{injected} faults injected by the four simulators (500s, slow and timed-out answers)"


def postgres_restart_command() -> list[str]:
    """`ORDO_CHAOS_PG_RESTART` (a shell command), else Debian's pg_ctlcluster for the one cluster."""
    if cmd := os.environ.get("ORDO_CHAOS_PG_RESTART"):
        return ["sh", "-c", cmd]
    etc = Path("/etc/postgresql")
    clusters = sorted(p.name for p in etc.glob("*")) if etc.exists() else []
    if shutil.which("pg_ctlcluster") and len(clusters) == 1:
        return ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[0], "main", "restart"]
    return []


def pg_only(settings: Settings) -> str:
    if not settings.effective_database_url.startswith("postgresql"):
        return "the stack runs on SQLite (set ORDO_DATABASE_URL to a PostgreSQL database)"
    if not postgres_restart_command():
        return "no way to restart PostgreSQL here (set ORDO_CHAOS_PG_RESTART)"
    return ""


async def restart_postgres(ctx: Chaos, load: Load, n: int) -> str:
    await answered(load, 0.3, n)
    at, started = load.answered, time.monotonic()
    proc = await asyncio.create_subprocess_exec(*postgres_restart_command(), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"restarting PostgreSQL failed ({proc.returncode}): {out.decode()[-300:]}")
    ctx.events.append("PostgreSQL restarted")
    return f"PostgreSQL restarted after {at} of {n} answers, in {time.monotonic() - started:.1f}s"


async def reuse_waybills(ctx: Chaos, load: Load, n: int) -> str:
    """Numbers are reused once their parcels have finished, as carriers recycle them: a
    stack that has not issued n yet first carries n orders through (not counted)."""
    async with httpx.AsyncClient(timeout=30) as http:
        issued = len((await http.get(f"{ctx.settings.carriers_url}/admin/waybills")).json()["waybills"])
    if issued < n:
        first = Load(ctx.api, f"{load.tag}-first", n)
        await first.run()
        await ctx.settle(first.acknowledged, 300)
    [numbering] = await ctx.sims("PUT", "/admin/numbering", {}, [ctx.settings.carriers_url])
    return f"carriers number waybills from {numbering['next']} again: earlier parcels' numbers are reused"


SCENARIOS = [
    Scenario("worker-kill", "a worker killed mid-activity loses no order and repeats no charge",
             during=kill_each_worker),
    Scenario("temporal-kill", "intake goes on while Temporal is away; orders start once it is back",
             during=kill_temporal),
    Scenario("api-kill", "an order the API acknowledged is never lost; one re-sent is taken once",
             during=kill_api),
    Scenario("sim-faults", "500s, slow answers and timeouts from the WMS, carriers, gateway and "
             "channels are retried without a second booking or charge", before=faults_on, after=faults_off),
    Scenario("duplicate-storm", "the same order sent five times at once is one order, one workflow, "
             "one charge", copies=5),
    Scenario("postgres-restart", "a database restart mid-load loses nothing", during=restart_postgres,
             cannot_run=pg_only),
    Scenario("waybill-reuse", "tracking for a reused waybill number reaches the live parcel, never an "
             "old one", before=reuse_waybills),
]
BY_NAME = {s.name: s for s in SCENARIOS}
