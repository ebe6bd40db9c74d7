"""Real parts for tests: simulators served by uvicorn on free loopback ports, a migrated
database with the demo catalogue, and the project's workers."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
import yaml
from fastapi import FastAPI
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import PROJECT_ROOT, Settings
from domain.access import SYSTEM, Role
from domain.model import Catalogue
from services.audit import Audit
from services.people import People
from store.catalog import import_catalogue
from store.db import make_engine
from store.migrate import migrate

BIN = Path(sys.executable).parent
DEMO_CATALOGUE = PROJECT_ROOT / "config" / "demo" / "catalog.yaml"
T = TypeVar("T")


def binary(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} not found: run `make test` so the wheels install it")
    return path


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: _started(server), what="uvicorn start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return bool(server.started)


async def wait_until(check: Callable[[], Awaitable[Any]], what: str, within: float = 30.0,
                     interval: float = 0.05) -> Any:
    """Poll with a deadline instead of sleeping a guessed amount."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)


def load_demo_catalogue() -> Catalogue:
    return Catalogue.model_validate(yaml.safe_load(DEMO_CATALOGUE.read_text(encoding="utf-8")))


async def prepare_database(url: str, catalogue: Catalogue | None = None) -> None:
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    try:
        await import_catalogue(engine, catalogue or load_demo_catalogue())
    finally:
        await engine.dispose()



async def api_key(settings: Settings, role: Role = Role.ADMIN, channels: list[str] | None = None,
                  warehouses: list[str] | None = None, name: str = "") -> str:
    """A real API key, made through the same service as `ordo tokens create`."""
    engine = make_engine(settings.effective_database_url)
    try:
        made = await People(engine, engine, Audit(engine, engine, settings)).create_token(
            SYSTEM, name or f"test-{role.value}-{uuid.uuid4().hex[:6]}", role, channels, warehouses)
    finally:
        await engine.dispose()
    return made.key


async def auth_headers(settings: Settings, role: Role = Role.ADMIN, channels: list[str] | None = None,
                       warehouses: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {await api_key(settings, role, channels, warehouses)}"}


async def database_text(engine: AsyncEngine, db_url: str) -> bytes:
    """Everything the database holds, as bytes: the SQLite file and its log as they are on
    disk; on PostgreSQL, every column of every table as text."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        dump = []
        for name in tables:
            rows = await conn.execute(text(f'SELECT t::text FROM "{name}" t'))
            dump += [r[0] for r in rows]
    return "\n".join(dump).encode()
