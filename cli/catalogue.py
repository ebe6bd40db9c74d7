"""`ordo catalog import FILE`: products, warehouses, stock and carriers from YAML or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from domain.errors import describe
from domain.model import Catalogue
from store.catalog import import_catalogue
from store.db import make_engine


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
