"""`ordo history seed` and `clear` as processes: past orders in the read models, counted in
the roll-ups, and gone again without touching orders that went through Ordo."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from config.settings import PROJECT_ROOT
from tests.e2e.conftest import BIN


def test_seed_then_clear(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ORDO_VAR_DIR": str(tmp_path),
        "ORDO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/o.db",
    }

    def ordo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "ordo"), *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
        )

    empty = ordo("history", "seed", "--orders", "50")
    assert empty.returncode == 2 and "catalogue is empty" in empty.stderr
    assert ordo("catalog", "import", str(PROJECT_ROOT / "config/demo/catalog.yaml")).returncode == 0
    seeded = ordo("history", "seed", "--orders", "400", "--days", "20", "--waiting", "7")
    assert seeded.returncode == 0, seeded.stderr
    assert json.loads(seeded.stdout.splitlines()[-1]) == {"orders": 400, "days": 20, "waiting": 7}
    with sqlite3.connect(tmp_path / "o.db") as db:
        assert db.execute("SELECT count(*) FROM orders WHERE status = 'awaiting_operator'").fetchone() == (7,)
        units = db.execute("SELECT sum(quantity) FROM order_lines").fetchone()
        assert db.execute("SELECT sum(units) FROM sku_sales_daily").fetchone() == units
        assert db.execute("SELECT sum(orders) FROM customer_totals").fetchone() == (400,)
    cleared = ordo("history", "clear")
    assert cleared.returncode == 0 and json.loads(cleared.stdout) == {"removed": 400}
    with sqlite3.connect(tmp_path / "o.db") as db:
        for table in (
            "orders",
            "order_lines",
            "order_transitions",
            "shipments",
            "sku_sales_daily",
            "customer_totals",
        ):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table  # noqa: S608
