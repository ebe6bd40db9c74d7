"""End-to-end: `ordo up --demo-orders 0` as a real process (dev server from the wheel,
four simulators, API, five workers), on SQLite and, when ORDO_TEST_PG_URL is set, PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from cli.processes import free_ports, port_in_use
from config import queues
from config.settings import PROJECT_ROOT, Settings
from config.temporal import connect
from store.db import make_engine
from tests.conftest import PG_URL, fresh_pg_database
from tests.harness import wait_until

BIN = Path(sys.executable).parent


@dataclass
class Ordo:
    api: str
    env: dict[str, str]
    db: AsyncEngine
    temporal: Client
    log: Path
    pid: int
    headers: dict[str, str]

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTP client that calls the API as the local admin (the key `ordo up` wrote)."""
        return httpx.AsyncClient(headers=self.headers, **kwargs)

    def child_pid(self, pattern: str) -> int:
        """The pid of one of `ordo up`'s child processes, by a piece of its command line."""
        found = subprocess.run(["pgrep", "-P", str(self.pid), "-f", pattern],
                               capture_output=True, text=True)
        pids = found.stdout.split()
        assert len(pids) == 1, f"{pattern!r}: {pids}"
        return int(pids[0])

    async def carriers_admin(self) -> Any:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"{self.env['ORDO_CARRIERS_URL']}/admin/waybills")).json()

    def ordo(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "ordo"), *args], env={**self.env, **(env or {})}, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120)


@pytest_asyncio.fixture(scope="module", params=["sqlite", "postgresql"])
async def ordo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> AsyncIterator[Ordo]:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("ORDO_TEST_PG_URL is not set")
    var = tmp_path_factory.mktemp(f"ordo-{request.param}")
    async with contextlib.AsyncExitStack() as stack:
        db_url = await stack.enter_async_context(fresh_pg_database("ordo_e2e")) \
            if request.param == "postgresql" else f"sqlite+aiosqlite:///{var / 'ordo.db'}"
        async for value in _running(request, var, db_url):
            yield value


async def _running(request: pytest.FixtureRequest, var: Path, db_url: str) -> AsyncIterator[Ordo]:
    temporal, ui, api, wms, car, pay, chan, *metrics = free_ports(7 + len(queues.ALL))
    env = {**os.environ, "ORDO_VAR_DIR": str(var), "ORDO_DATABASE_URL": db_url,
           "ORDO_WORKER_METRICS_PORTS": json.dumps(metrics),
           "ORDO_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}", "ORDO_TEMPORAL_UI_PORT": str(ui),
           "ORDO_API_PORT": str(api), "ORDO_WMS_URL": f"http://127.0.0.1:{wms}",
           "ORDO_CARRIERS_URL": f"http://127.0.0.1:{car}", "ORDO_PAYMENTS_URL": f"http://127.0.0.1:{pay}",
           "ORDO_CHANNELS_URL": f"http://127.0.0.1:{chan}",
           # the tests set stock behind the WMS simulator's back; a scheduled reconciliation
           # would rightly "correct" it at a quarter-hour boundary, mid-test
           "ORDO_INVENTORY_SCHEDULES": "false"}
    log = var / "ordo-up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "ordo"), "up", "--demo-orders", "0",
                                 "--sim-failure-rate", "0.1", "--tracking-step", "0.2"],
                                env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
    api_url = f"http://127.0.0.1:{api}"

    async def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"ordo up exited {proc.returncode}:\n{log.read_text()}")
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{api_url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    db = make_engine(db_url)
    try:
        await wait_until(healthy, "ordo up to serve", within=90, interval=0.25)
        client = await connect(Settings(temporal_address=f"127.0.0.1:{temporal}", var_dir=var))
        key = (var / "admin.token").read_text().strip()
        yield Ordo(api=api_url, env=env, db=db, temporal=client, log=log, pid=proc.pid,
                   headers={"Authorization": f"Bearer {key}"})
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            await db.dispose()
        assert proc.returncode == 130, log.read_text()[-2000:]
        assert not port_in_use(temporal), "Ctrl-C left the Temporal dev server running"
