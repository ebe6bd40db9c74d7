"""Engine creation for SQLite (embedded default) and PostgreSQL, with the same code paths.

SQLite transactions start with BEGIN IMMEDIATE: a reservation reads then writes, and a
deferred transaction that upgrades to a write lock fails at once under concurrency instead
of waiting; taking the write lock up front makes concurrent writers queue on busy_timeout.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def make_engine(url: str, readonly: bool = False, **kwargs: Any) -> AsyncEngine:
    """`readonly` engines (dashboards, status reads) skip BEGIN IMMEDIATE on SQLite: in WAL
    mode readers never block writers, so they should not queue behind them either."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 60}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA secure_delete=ON")  # erased personal data is zeroed, not left in free pages
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    # pre-ping: a pooled connection the server closed (a restart, a failover) is replaced
    # before use instead of failing the request or activity that drew it
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **kwargs)


@overload
def utc(at: datetime) -> datetime: ...
@overload
def utc(at: None) -> None: ...
def utc(at: datetime | None) -> datetime | None:
    """A stored time as UTC: SQLite hands back the naive UTC it was given, PostgreSQL an aware one."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
