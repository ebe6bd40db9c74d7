from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.db import make_engine  # noqa: E402

PG_URL = os.environ.get("ORDO_TEST_PG_URL", "")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ordo.db'}"


@pytest_asyncio.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh database in the CI PostgreSQL; fails loudly when set but unreachable."""
    if not PG_URL:
        pytest.skip("ORDO_TEST_PG_URL is not set")
    name = f"ordo_t_{uuid.uuid4().hex[:10]}"
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
