"""The database a command works on, brought to the latest schema first."""

from __future__ import annotations

import typer
from rich.console import Console

from config.settings import get_settings
from store.migrate import MigrationError, migrate


def migrated_url() -> str:
    """The configured database URL after migrating it; exit 2 with the reason if that fails."""
    url = get_settings().effective_database_url
    try:
        migrate(url)
    except MigrationError as exc:
        Console(stderr=True).print(str(exc), style="red", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    return url


def db_migrate() -> None:
    """Bring the database to the latest schema."""
    settings = get_settings()
    try:
        migrate(settings.effective_database_url)
    except MigrationError as exc:
        Console(stderr=True).print(f"{exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    Console().print("database is at the latest schema")
