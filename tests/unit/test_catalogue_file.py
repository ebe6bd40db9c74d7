import asyncio
from pathlib import Path

import pytest

from cli.commands.catalogue import CatalogueFileError, import_file, read_catalogue
from config.settings import PROJECT_ROOT
from store.db import make_engine
from store.inventory import stock_row
from store.migrate import migrate


def test_the_demo_catalogue_is_a_valid_catalogue_file() -> None:
    cat = read_catalogue(PROJECT_ROOT / "config" / "demo" / "catalog.yaml")
    assert len(cat.products) >= 30 and len(cat.warehouses) >= 3 and len(cat.carriers) >= 3
    assert {p.temperature for p in cat.products} >= {"ambient", "chilled", "frozen"}
    assert any(p.hazmat for p in cat.products) and any(p.oversize for p in cat.products)
    assert len({w.province for w in cat.warehouses}) == len(cat.warehouses)


def test_errors_name_the_entry_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("products:\n  - {sku: A, name: a, unit_price: '1.00', weight_g: 0}\n", encoding="utf-8")
    with pytest.raises(CatalogueFileError, match=r"products\[0\]\.weight_g: Input should be greater than 0"):
        read_catalogue(bad)


async def test_stock_for_an_unknown_product_is_refused_and_nothing_half_loaded(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    await asyncio.to_thread(migrate, url)
    await import_file(PROJECT_ROOT / "config" / "demo" / "catalog.yaml", url)
    bad = tmp_path / "s.yaml"
    bad.write_text("stock:\n  - {sku: COKE-330-24, warehouse: SH-01, on_hand: 7}\n"
                   "  - {sku: NOPE, warehouse: SH-01, on_hand: 1}\n", encoding="utf-8")
    with pytest.raises(CatalogueFileError, match="unknown sku 'NOPE'"):
        await import_file(bad, url)
    engine = make_engine(url)
    try:
        assert (await stock_row(engine, "COKE-330-24", "SH-01"))[0] != 7  # rolled back
    finally:
        await engine.dispose()
