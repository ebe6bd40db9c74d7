"""Workflows and the API know activities only by their contracts; the worker registers an
implementation for every contract, with the contract's name, queue and types."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from temporalio import activity

import activities.contracts as contracts_pkg
import worker
from activities.contracts.base import Activity
from config import queues
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_MODULES = ["workflows.order", "workflows.shipment", "workflows.returns", "workflows.inventory",
                    "workflows.carrier_booking", "workflows.schedules"]
IMPLEMENTATIONS = ("activities.store", "activities.inventory", "activities.returns", "activities.payments",
                   "activities.wms", "activities.carriers", "activities.channels",
                   "activities.carrier_clients", "activities.rule_log")


def _loaded_after_import(*modules: str) -> set[str]:
    """Modules a fresh interpreter holds after importing `modules` (nothing else ran first)."""
    code = ("import importlib, json, sys\n"
            f"for m in {list(modules)!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def _forbidden(loaded: set[str], *, database: bool) -> list[str]:
    bad = [m for m in loaded if m in IMPLEMENTATIONS or m == "rules.engine" or m.startswith("httpx")]
    if database:
        bad += [m for m in loaded if m.startswith(("sqlalchemy", "store.", "aiosqlite", "asyncpg"))]
    return sorted(bad)


def test_workflows_load_no_implementation_engine_database_or_http_client() -> None:
    loaded = _loaded_after_import(*WORKFLOW_MODULES)
    assert "activities.contracts.store" in loaded  # the check itself sees what was imported
    assert _forbidden(loaded, database=True) == []


def test_the_api_loads_no_activity_implementation_rule_engine_or_http_client() -> None:
    """The API reads the database through services, so SQLAlchemy is expected there; what
    does the work of an activity, the rule engine and HTTP clients are not."""
    loaded = _loaded_after_import("api.app")
    assert "api.app" in loaded
    assert _forbidden(loaded, database=False) == []


def _contracts() -> list[Activity[typing.Any, typing.Any]]:
    found = []
    for info in pkgutil.iter_modules(contracts_pkg.__path__):
        module = importlib.import_module(f"activities.contracts.{info.name}")
        found += [v for v in vars(module).values() if isinstance(v, Activity)]
    return found


class _Unused:
    """Stands in for the database, HTTP client, rule engine and vault: registration never uses them."""


def _registered(var_dir: Path) -> dict[str, tuple[str, activity._Definition]]:
    res = worker.Resources(db=_Unused(), http=_Unused(), rules=_Unused(), vault=_Unused())  # type: ignore[arg-type]
    table = {}
    for queue in queues.ALL:
        for fn in worker.activities_for(queue, res, Settings(var_dir=var_dir)):
            defn = activity._Definition.must_from_callable(fn)
            assert defn.name is not None and defn.name not in table, f"{defn.name} registered twice"
            table[defn.name] = (queue, defn)
    return table


def test_every_contract_has_one_implementation_with_its_queue_and_types(tmp_path: Path) -> None:
    registered = _registered(tmp_path)
    contracts = _contracts()
    assert len(contracts) == len({c.name for c in contracts}) == len(registered) == 34
    for c in contracts:
        queue, defn = registered[c.name]
        assert queue == c.queue, c.name
        hints = typing.get_type_hints(defn.fn)
        params = [v for k, v in hints.items() if k != "return"]
        assert params == ([] if c.input is type(None) else [c.input]), c.name
        assert hints["return"] in (c.output, None if c.output is type(None) else c.output), c.name


@pytest.mark.parametrize("queue", [queues.WMS, queues.CARRIERS, queues.PAYMENTS, queues.CHANNELS])
def test_remote_contracts_are_not_local(queue: str) -> None:
    assert all(not c.local for c in _contracts() if c.queue == queue)
