"""`ordo catalog import FILE`: products, warehouses, stock and carriers from YAML or JSON."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console

from cli.credentials import authorised
from config.settings import Settings, get_settings
from domain.access import Permission, Principal
from domain.errors import describe
from domain.model import Catalogue
from services.audit import Audit
from store.catalog import import_catalogue
from store.db import make_engine
from store.migrate import MigrationError, migrate

console = Console()
err = Console(stderr=True)


class CatalogueFileError(Exception):
    pass


def read_catalogue(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueFileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CatalogueFileError(f"{path} is not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from exc
    try:
        return Catalogue.model_validate(data or {})
    except ValidationError as exc:
        problems = "\n".join(f"  {e.field}: {e.reason}" for e in describe(exc))
        raise CatalogueFileError(f"{path} has {exc.error_count()} problem(s):\n{problems}") from exc


async def import_file(path: Path, database_url: str) -> dict[str, int]:
    catalogue = read_catalogue(path)
    engine = make_engine(database_url)
    try:
        return await import_catalogue(engine, catalogue)
    except ValueError as exc:
        raise CatalogueFileError(f"{path}: {exc}") from exc
    finally:
        await engine.dispose()


async def _audited(settings: Settings, who: Principal, file: Path, counts: dict[str, int]) -> None:
    engine = make_engine(settings.effective_database_url)
    try:
        await Audit(engine, engine, settings).write(who, "catalog.imported", str(file), **counts)
    finally:
        await engine.dispose()


def catalog_import(file: Path = typer.Argument(..., help="YAML or JSON catalogue file")) -> None:
    """Load products, warehouses, stock and carriers (format: README, 'Catalogue files')."""
    settings = get_settings()
    try:
        migrate(settings.effective_database_url)
        who = authorised(settings, Permission.CATALOG_WRITE)
        counts = asyncio.run(import_file(file, settings.effective_database_url))
    except (CatalogueFileError, MigrationError) as exc:
        err.print(f"{exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    asyncio.run(_audited(settings, who, file, counts))
    console.print("imported " + ", ".join(f"{v} {k}" for k, v in counts.items()))
