from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.db import make_engine  # noqa: E402
from tests.watchdog import watch  # noqa: E402

PG_URL = os.environ.get("ORDO_TEST_PG_URL", "")


TIERS = ("unit", "workflow", "integration", "e2e", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test carries its tier's marker (its folder under tests/), and `pg` when it runs on
    PostgreSQL, so `-m unit`, `-m "not e2e"` or `-m pg` pick a tier."""
    for item in items:
        tier = Path(str(item.fspath)).resolve().relative_to(Path(__file__).resolve().parent).parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.id:
            item.add_marker(pytest.mark.pg)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `pytest -n 2` (`make test`): the tests that start a whole stack (e2e, browser) run
    one after another on one worker, whole modules of the other tiers beside them. Two stacks
    at once on two cores starve each other's deadlines; one stack beside a tier of small
    servers does not."""
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 (only when xdist runs)

    class StackApart(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(("tests/e2e/", "tests/browser/")):
                return "stack"
            return str(super()._split_scope(nodeid))

    return StackApart(config, log)


@pytest.fixture(autouse=True)
def _say_where_a_stuck_test_waits(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from watch(request.node.nodeid)


@contextlib.asynccontextmanager
async def fresh_pg_database(prefix: str = "ordo_t") -> AsyncIterator[str]:
    """A new database in the CI PostgreSQL, dropped afterwards; fails loudly when
    ORDO_TEST_PG_URL is set but the server cannot be reached."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        await admin.dispose()
        pytest.fail(f"ORDO_TEST_PG_URL={PG_URL} is set but unreachable: {exc}")
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The same test on the embedded SQLite file and, in CI, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'ordo.db'}"
        return
    if not PG_URL:
        pytest.skip("ORDO_TEST_PG_URL is not set")
    async with fresh_pg_database() as url:
        yield url
