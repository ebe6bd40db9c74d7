"""Bring a database to the latest schema with Alembic (sync: call it in a thread from async code)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class MigrationError(Exception):
    pass


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    try:
        command.upgrade(alembic_config(url), "head")
    except Exception as exc:
        raise MigrationError(
            f"could not migrate the database at {_safe(url)}: {type(exc).__name__}: {exc}. "
            "Check ORDO_DATABASE_URL and that the database server is running."
        ) from exc


def _safe(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
