"""Workflow tests: the real workflows and activities on the time-skipping test server,
with the simulators on loopback and a migrated SQLite database."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from config import queues
from config import search_attributes as sa
from config.settings import PROJECT_ROOT, Settings
from simulators import carriers, marketplaces, payments, wms
from simulators.faults import Faults
from store.db import make_engine
from tests.harness import binary, prepare_database, serve_app
from tests.replay.recorder import HISTORIES, StartedWorkflows, recording_client, save_histories
from worker import build_workers, open_resources


@dataclass
class WorkflowStack:
    client: Client
    env: WorkflowEnvironment
    db: AsyncEngine
    settings: Settings
    urls: dict[str, str]


async def register_search_attributes(client: Client) -> None:
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

    kinds = {"Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
             "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
             "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST}
    await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=client.namespace,
        search_attributes={k: kinds[v] for k, v in sa.DEV_SERVER_TYPES.items()}))


@pytest.fixture
def rules_dir() -> Path:
    """The shipped rule files; a test module that edits rules overrides this with a copy."""
    return PROJECT_ROOT / "rules"


@pytest_asyncio.fixture(scope="session")
async def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and loaded with the demo catalogue once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "ordo.db"
    await prepare_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest_asyncio.fixture
async def wf(request: pytest.FixtureRequest, tmp_path: Path, rules_dir: Path,
             migrated_database: Path) -> AsyncIterator[WorkflowStack]:
    """With ORDO_RECORD_HISTORIES set, a test marked `records("scenario")` leaves the
    histories of the workflows it ran in tests/replay/histories (`python -m tests.replay.record`)."""
    marker = request.node.get_closest_marker("records")
    started = StartedWorkflows() if marker and os.environ.get("ORDO_RECORD_HISTORIES") else None
    for suffix in ("", "-wal", "-shm"):  # WAL files too, should SQLite have left any
        if (source := migrated_database.with_name(migrated_database.name + suffix)).exists():
            shutil.copyfile(source, tmp_path / f"ordo.db{suffix}")
    url = f"sqlite+aiosqlite:///{tmp_path / 'ordo.db'}"
    async with contextlib.AsyncExitStack() as stack:
        wms_url = await stack.enter_async_context(serve_app(wms.create_app(Faults(0))))
        car_url = await stack.enter_async_context(
            serve_app(carriers.create_app(Faults(0), push_url="", step_seconds=0)))
        pay_url = await stack.enter_async_context(
            serve_app(payments.create_app(Faults(0), notify_url="")))
        chan_url = await stack.enter_async_context(serve_app(marketplaces.create_app(Faults(0))))
        settings = Settings(database_url=url, wms_url=wms_url, carriers_url=car_url,
                            payments_url=pay_url, channels_url=chan_url, rules_dir=rules_dir,
                            rules_reload_seconds=0, workflow_sandbox="strict")
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter,
            test_server_existing_path=binary("temporal-test-server"))
        await stack.enter_async_context(env)
        await register_search_attributes(env.client)
        client = recording_client(env.client, started) if started else env.client
        res = await stack.enter_async_context(open_resources(settings))
        for w in build_workers(client, list(queues.ALL), res, settings):
            await stack.enter_async_context(w)
        db = make_engine(url)
        try:
            yield WorkflowStack(client=client, env=env, db=db, settings=settings,
                                urls={"wms": wms_url, "carriers": car_url, "payments": pay_url,
                                      "channels": chan_url})
            if started and marker:
                out = Path(os.environ.get("ORDO_RECORD_HISTORIES_DIR") or HISTORIES)
                await save_histories(client, started.ids, marker.args[0], out)
        finally:
            await db.dispose()
