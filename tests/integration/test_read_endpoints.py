"""The read endpoints a script, a dashboard or `ordo up`'s demo follows the stack by: order
statuses of a batch, the catalogue, the ledger audit, and the errors a service's refusal
maps to. On SQLite and PostgreSQL; no Temporal is needed for any of them."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import update

from api.app import create_app
from config.settings import Settings
from store import orders as order_store
from store import tables as t
from store.db import make_engine
from tests.factories import make_order
from tests.harness import auth_headers, load_demo_catalogue, prepare_database, serve_app


async def test_statuses_catalogue_and_audit_answer_from_the_database(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        stored = make_order("read-1")
        await order_store.save_order(engine, stored)
        settings = Settings(database_url=db_url, var_dir=tmp_path)
        app = create_app(settings)
        async with serve_app(app) as api, httpx.AsyncClient(
                base_url=api, timeout=30, headers=await auth_headers(settings)) as http:
            statuses = await http.post("/v1/orders/statuses",
                                       json={"order_ids": [stored.order_id, "shopify-never-sent"]})
            assert statuses.status_code == 200
            assert statuses.json() == {
                "orders": {stored.order_id: "received", "shopify-never-sent": "accepted"},
                "by_status": {"received": 1, "accepted": 1}}
            empty = await http.post("/v1/orders/statuses", json={"order_ids": []})
            assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "order_ids"

            products = (await http.get("/v1/catalog/products")).json()["products"]
            assert [p["sku"] for p in products] == sorted(p.sku for p in load_demo_catalogue().products)
            coke = next(p for p in products if p["sku"] == "COKE-330-24")
            assert (coke["unit_price"], coke["returnable"]) == ("59.00", True)

            clean = (await http.get("/v1/inventory/audit")).json()
            assert clean["drift"] == [] and clean["checked"] == 116 and clean["movements"] > 0
            async with engine.begin() as conn:  # a balance edited behind the ledger's back
                await conn.execute(update(t.stock)
                                   .where(t.stock.c.sku == "RICE-5KG", t.stock.c.warehouse == "SH-01")
                                   .values(on_hand=t.stock.c.on_hand + 3))
            drifted = (await http.get("/v1/inventory/audit")).json()
            assert [(d["sku"], d["warehouse"]) for d in drifted["drift"]] == [("RICE-5KG", "SH-01")]
            assert "ledger says" in drifted["drift"][0]["what"]

            missing = await http.get("/v1/inventory", params={"sku": "NOPE-1"})
            assert missing.status_code == 404 and "no stock of 'NOPE-1'" in missing.json()["error"]
            no_return = await http.get("/v1/returns/RMA-nobody")
            assert no_return.status_code == 404 and no_return.json() == {"error": "no return RMA-nobody"}
    finally:
        await engine.dispose()


async def test_a_transfer_of_nonsense_is_refused_naming_each_field_and_books_nothing(
    db_url: str, tmp_path: Path,
) -> None:
    """Unknown SKU and warehouses, the same warehouse twice, a quantity of zero: 422 each,
    and no transfer row, no ledger movement (the check comes before any workflow starts;
    no Temporal runs here, so one that started would fail the request with a 503)."""
    await prepare_database(db_url)
    engine = make_engine(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path)
    app = create_app(settings)
    try:
        async with serve_app(app) as api, httpx.AsyncClient(
                base_url=api, timeout=30, headers=await auth_headers(settings)) as http:
            before = (await http.get("/v1/inventory/audit")).json()["movements"]

            async def refused(**body: object) -> list[tuple[str, str]]:
                good = {"sku": "RICE-5KG", "from_warehouse": "BJ-01", "to_warehouse": "GZ-01", "quantity": 2}
                r = await http.post("/v1/inventory/transfers", json={**good, **body})
                assert r.status_code == 422, r.text
                return [(e["field"], e["reason"]) for e in r.json()["errors"]]

            assert await refused(sku="NOPE-1") == [("sku", "unknown SKU 'NOPE-1': not in the catalogue")]
            [(field, why)] = await refused(to_warehouse="XX-09")
            assert field == "to_warehouse" and why.startswith("unknown warehouse 'XX-09'; Ordo has BJ-01")
            same = await refused(from_warehouse="SH-01", to_warehouse="SH-01")
            assert [f for f, _ in same] == ["to_warehouse"]
            assert [f for f, _ in await refused(quantity=0)] == ["quantity"]
            assert (await http.get("/v1/inventory/transfers")).json()["transfers"] == []
            assert (await http.get("/v1/inventory/audit")).json()["movements"] == before
    finally:
        await engine.dispose()
