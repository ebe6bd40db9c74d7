"""`ordo up` as a new user runs it: demo orders to a settled state, and clear refusals."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
from pathlib import Path

from cli.processes import free_ports, port_in_use
from config import queues
from config.settings import PROJECT_ROOT
from tests.e2e.conftest import BIN
from tests.harness import wait_until


def stack_env(var: Path, **extra: str) -> dict[str, str]:
    temporal, ui, api, wms, car, pay, chan, *metrics = free_ports(7 + len(queues.ALL))
    return {**os.environ, "ORDO_VAR_DIR": str(var), "ORDO_DATABASE_URL": f"sqlite+aiosqlite:///{var}/o.db",
            "ORDO_WORKER_METRICS_PORTS": json.dumps(metrics),
            "ORDO_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}", "ORDO_TEMPORAL_UI_PORT": str(ui),
            "ORDO_API_PORT": str(api), "ORDO_WMS_URL": f"http://127.0.0.1:{wms}",
            "ORDO_CARRIERS_URL": f"http://127.0.0.1:{car}", "ORDO_PAYMENTS_URL": f"http://127.0.0.1:{pay}",
            "ORDO_CHANNELS_URL": f"http://127.0.0.1:{chan}",
            "ORDO_INVENTORY_SCHEDULES": "false",  # the demo's own reconciliation is what is asserted
            **extra}


def ordo_up(env: dict[str, str], *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ordo"), "up", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_demo_orders_until_done_settle_and_exit_zero(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    run = ordo_up(env, "--demo-orders", "30", "--until-done", "--tracking-step", "0.1")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["orders"] == 30
    assert summary["completed"] + summary["cancelled"] + summary["exception"] == 30
    assert summary["completed"] >= 20  # the demo mix declines a few payments on purpose
    # Stock moved: a reported receipt, a lost damage report found and corrected by the
    # reconciliation (with an alert: 8 units is over the threshold), a transfer received
    # through the WMS's entryorder.confirm, and the ledger still explains every balance.
    assert summary["stock"] == {"corrected": 1, "alerts": 1, "audit_drift": 0, "transfers_received": 1,
                                "ledger_movements": summary["stock"]["ledger_movements"]}, run.stdout[-4000:]
    assert "reconciliation: COKE-330-24@GZ-01" in run.stdout and "corrected -8" in run.stdout
    # Three customers asked for returns once their orders were delivered: each ended as the
    # returns rules say (a change of mind refunded, a size swap exchanged, a used item refused).
    assert summary["returns"] == {"refunded": 1, "exchanged": 1, "rejected": 1, "as_expected": True}
    # The first start made the admin account and the local key, each in a file only its owner
    # reads; the password was printed once and is in no log.
    password = (tmp_path / "admin.password").read_text().strip()
    key = (tmp_path / "admin.token").read_text().strip()
    assert f"'admin' with the password {password}" in " ".join(run.stdout.split())
    modes = {oct((tmp_path / f).stat().st_mode & 0o777) for f in ("admin.password", "admin.token")}
    assert modes == {"0o600"}
    for log in (tmp_path / "logs").glob("*.log"):
        text = log.read_text(errors="replace")
        assert password not in text and key not in text, log
    again = ordo_up(env, "--demo-orders", "3", "--until-done", "--tracking-step", "0.1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming" in again.stdout and "with the password" not in again.stdout
    # the dashboard's history was written once, on the first start only
    with sqlite3.connect(tmp_path / "o.db") as db:
        assert db.execute("SELECT count(*) FROM orders WHERE customer_id LIKE 'hist-%'").fetchone() == (3000,)


def test_a_busy_port_is_named_with_the_fix(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = ordo_up(stack_env(tmp_path, ORDO_API_PORT=str(port)), "--demo-orders", "0", timeout=60)
    assert run.returncode == 2
    assert f"API needs port {port}" in run.stderr and "ORDO_API_PORT" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_failed_migration_says_what_to_check(tmp_path: Path) -> None:
    env = stack_env(tmp_path, ORDO_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    run = ordo_up(env, "--demo-orders", "0", timeout=60)
    assert run.returncode == 2
    assert "could not migrate the database" in run.stderr and "ORDO_DATABASE_URL" in run.stderr
    assert "Traceback" not in run.stderr


async def test_children_do_not_outlive_a_killed_supervisor(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    log = tmp_path / "ordo-up.out"
    with log.open("w") as out:
        proc = subprocess.Popen([str(BIN / "ordo"), "up", "--demo-orders", "0"], env=env, cwd=PROJECT_ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    api_port = int(env["ORDO_API_PORT"])
    temporal_port = int(env["ORDO_TEMPORAL_ADDRESS"].rsplit(":", 1)[1])

    async def listening() -> bool:
        assert proc.poll() is None, f"ordo up exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        return port_in_use(api_port)

    try:
        try:
            await wait_until(listening, "the API to listen", within=90, interval=0.25)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()[-3000:]}") from None
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        pids = [int(p) for p in children.stdout.split()]
        assert len(pids) == 12  # Temporal, 4 simulators, API, dispatcher, 5 workers
    finally:
        proc.kill()  # SIGKILL: no chance to clean up by itself
        proc.wait()
    await wait_until(lambda: _free(temporal_port, api_port), "ports to be released", within=30, interval=0.2)
    await wait_until(lambda: _all_gone(pids), "every child to exit", within=30, interval=0.2)


async def _all_gone(pids: list[int]) -> bool:
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


async def _free(*ports: int) -> bool:
    return not any(port_in_use(p) for p in ports)
