"""A PostgreSQL database of its own for one benchmark, made beside the server's and dropped
after, so a bench never touches a deployment's data (ORDO_BENCH_PG_URL names the server)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import text

from cli.processes import StartupError
from config.settings import get_settings
from store.db import make_engine


def server_url(what: str) -> str:
    url = os.environ.get("ORDO_BENCH_PG_URL") or get_settings().effective_database_url
    if not url.startswith("postgresql"):
        raise StartupError(f"{what} needs PostgreSQL: set ORDO_BENCH_PG_URL="
                           "postgresql+asyncpg://user@host:5432/db (a scratch database is made beside it)")
    return url


@contextlib.asynccontextmanager
async def scratch_database(server: str, prefix: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on `server`'s host, dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.rsplit("/", 1)[0] + "/" + name
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
