"""The reservation ledger under real concurrent connections, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select, update

from api.app import create_app
from config.settings import PROJECT_ROOT, Settings
from domain.messages import LineFacts
from domain.model import Catalogue, Product, StockLevel, Temperature
from domain.records import WarehouseStock
from domain.returns import Grade, ReturnedUnits
from domain.sourcing import plan_sourcing
from domain.wire import qimen
from store import inventory, ledger
from store import returns as return_store
from store import tables as t
from store.catalog import import_catalogue
from store.db import make_engine
from tests.factories import sourcing
from tests.harness import auth_headers, prepare_database, serve_app


def one_unit(order_no: int) -> list[LineFacts]:
    return [
        LineFacts(
            line_no=0,
            sku="RARE-1",
            quantity=1,
            weight_g=100,
            temperature=Temperature.AMBIENT,
            hazmat=False,
            oversize=False,
        )
    ]


async def test_concurrent_reservations_never_exceed_stock_and_retries_do_not_double(db_url: str) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        await import_catalogue(
            engine,
            Catalogue(
                products=[Product(sku="RARE-1", name="rare", unit_price="10.00", weight_g=100)],  # type: ignore[arg-type]
                stock=[
                    StockLevel(sku="RARE-1", warehouse=w, on_hand=q)
                    for w, q in (("SH-01", 20), ("GZ-01", 17), ("BJ-01", 13))
                ],
            ),
        )

        def plan(lines, avail, whs):  # type: ignore[no-untyped-def]
            return plan_sourcing(lines, avail, whs, "上海", sourcing())

        async def order(i: int) -> bool:
            result = await inventory.reserve(engine, f"o-{i}", "r1", one_unit(i), plan, allow_partial=False)
            if result.reserved:  # a retried activity gets the same reservation, not a second one
                again = await inventory.reserve(
                    engine, f"o-{i}", "r1", one_unit(i), plan, allow_partial=False
                )
                assert again.allocations == result.allocations
            return result.reserved

        outcomes = await asyncio.gather(*(order(i) for i in range(200)))
        assert sum(outcomes) == 50
        async with engine.connect() as conn:
            held = (
                await conn.execute(
                    select(func.sum(t.reservations.c.quantity)).where(
                        t.reservations.c.sku == "RARE-1", t.reservations.c.status == "held"
                    )
                )
            ).scalar_one()
            rows = (
                await conn.execute(
                    select(t.stock.c.on_hand, t.stock.c.reserved).where(t.stock.c.sku == "RARE-1")
                )
            ).all()
        assert held == 50
        assert all(reserved == on_hand for on_hand, reserved in rows)

        winner = f"o-{outcomes.index(True)}"
        assert await inventory.release(engine, winner) == 1
        assert await inventory.release(engine, winner) == 0  # releasing twice releases nothing
        async with engine.connect() as conn:
            reserved = (
                await conn.execute(select(func.sum(t.stock.c.reserved)).where(t.stock.c.sku == "RARE-1"))
            ).scalar_one()
        assert reserved == 49
        checked, drifts = await ledger.audit(engine)  # 200 racing orders, every movement booked
        assert drifts == [] and checked > 3
    finally:
        await engine.dispose()


async def test_the_ledger_explains_every_balance_and_the_audit_names_drift(db_url: str) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        await import_catalogue(
            engine,
            Catalogue(
                products=[Product(sku="LEDGER-1", name="ledger", unit_price="10.00", weight_g=100)],  # type: ignore[arg-type]
                stock=[StockLevel(sku="LEDGER-1", warehouse="SH-01", on_hand=10, safety_stock=3)],
            ),
            "receiving note 77",
        )

        def plan(lines, avail, whs):  # type: ignore[no-untyped-def]
            return plan_sourcing(lines, avail, whs, "上海", sourcing())

        def units(n: int) -> list[LineFacts]:
            return [
                LineFacts(
                    line_no=0,
                    sku="LEDGER-1",
                    quantity=n,
                    weight_g=100 * n,
                    temperature=Temperature.AMBIENT,
                    hazmat=False,
                    oversize=False,
                )
            ]

        # safety stock: 10 on hand, 3 kept back, so 8 cannot be promised but 7 can
        assert not (await inventory.reserve(engine, "a", "r1", units(8), plan, allow_partial=False)).reserved
        assert (await inventory.reserve(engine, "a", "r2", units(7), plan, allow_partial=False)).reserved
        assert await inventory.consume(engine, "a", {"LEDGER-1@SH-01"}) == 7
        blocked = await inventory.reserve(engine, "b", "r1", units(1), plan, allow_partial=False)
        assert not blocked.reserved  # 3 left, all of it safety stock
        await import_catalogue(
            engine,
            Catalogue(stock=[StockLevel(sku="LEDGER-1", warehouse="SH-01", on_hand=12, safety_stock=3)]),
            "cycle count",
        )
        assert (await inventory.reserve(engine, "b", "r2", units(2), plan, allow_partial=False)).reserved
        assert await inventory.release(engine, "b") == 2
        assert await inventory.stock_row(engine, "LEDGER-1", "SH-01") == (12, 0)
        assert [lv.model_dump() for lv in await ledger.availability(engine, "LEDGER-1")] == [
            {"warehouse": "SH-01", "on_hand": 12, "reserved": 0, "safety_stock": 3, "available": 9,
             "in_transit": 0, "defective": 0, "by_channel": {}}
        ]
        kinds = [
            (m.kind, m.on_hand_delta, m.reserved_delta, m.reference)
            for m in reversed(await ledger.movements(engine, "LEDGER-1"))
        ]
        assert kinds == [
            ("receipt", 10, 0, "receiving note 77"),
            ("reserve", 0, 7, "a:r2:0:SH-01"),
            ("ship", -7, -7, "a:r2:0:SH-01"),
            ("adjustment", 9, 0, "cycle count"),
            ("reserve", 0, 2, "b:r2:0:SH-01"),
            ("release", 0, -2, "b:r2:0:SH-01"),
        ]
        assert (await ledger.audit(engine))[1] == []

        async with engine.begin() as conn:  # someone edits the table behind the ledger's back
            await conn.execute(update(t.stock).where(t.stock.c.sku == "LEDGER-1").values(on_hand=15))
        [drift] = (await ledger.audit(engine))[1]
        assert (drift.sku, drift.warehouse, drift.describe()) == (
            "LEDGER-1",
            "SH-01",
            "on hand 15, ledger says 12",
        )
    finally:
        await engine.dispose()


async def test_inventory_over_the_api_and_the_audit_command(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    env = {**os.environ, "ORDO_DATABASE_URL": db_url, "ORDO_VAR_DIR": str(tmp_path), "COLUMNS": "200"}

    def ordo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "inventory", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    clean = await asyncio.to_thread(ordo, "audit")
    assert clean.returncode == 0 and "116 stock balances checked against the ledger: no drift" in clean.stdout
    nonsense = await asyncio.to_thread(ordo, "transfer", "NOPE-1", "SH-01", "SH-01", "2")
    assert nonsense.returncode == 1, nonsense.stdout + nonsense.stderr
    assert "sku: unknown SKU 'NOPE-1'" in nonsense.stderr and "both are 'SH-01'" in nonsense.stderr
    settings = Settings(database_url=db_url, var_dir=tmp_path)
    app = create_app(settings)
    async with serve_app(app) as api, httpx.AsyncClient(
            base_url=api, headers=await auth_headers(settings)) as http:
        body = (await http.get("/v1/inventory", params={"sku": "COKE-330-24"})).json()
        missing = await http.get("/v1/inventory", params={"sku": "NOPE"})
    assert {w["warehouse"] for w in body["warehouses"]} == {"SH-01", "GZ-01", "BJ-01", "CD-01"}
    assert body["available"] == sum(
        w["on_hand"] - w["reserved"] - w["safety_stock"] for w in body["warehouses"]
    )
    assert missing.status_code == 404
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(t.stock)
                .where(t.stock.c.sku == "COKE-330-24", t.stock.c.warehouse == "GZ-01")
                .values(on_hand=t.stock.c.on_hand + 5)
            )
    finally:
        await engine.dispose()
    drift = await asyncio.to_thread(ordo, "audit", "--json")
    assert drift.returncode == 1
    [found] = json.loads(drift.stdout)["drift"]
    assert (found["sku"], found["warehouse"]) == ("COKE-330-24", "GZ-01") and "ledger says" in found["what"]
    shown = await asyncio.to_thread(ordo, "show", "COKE-330-24")
    assert shown.returncode == 0 and "receipt" in shown.stdout and "catalogue import" in shown.stdout


async def test_wms_stock_changes_apply_once_and_refuse_what_cannot_be(db_url: str) -> None:
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        before = await inventory.stock_row(engine, "RICE-5KG", "SH-01")
        receipt = ledger.StockChange("CGRK-1", "RICE-5KG", "SH-01", 40, "CGRK")
        assert await ledger.apply_stock_change(engine, receipt) == "applied"
        assert await ledger.apply_stock_change(engine, receipt) == "duplicate"  # the WMS re-sent it
        damage = ledger.StockChange("PDTZ-1", "RICE-5KG", "SH-01", -(before[0] + 41), "PDTZ")
        refused = await ledger.apply_stock_change(engine, damage)
        assert "on hand would fall to -1" in refused
        assert (
            await ledger.apply_stock_change(engine, ledger.StockChange("X-1", "NOPE", "SH-01", 1, "CGRK"))
            == "no stock row for NOPE at SH-01; import the product first"
        )
        assert await inventory.stock_row(engine, "RICE-5KG", "SH-01") == (before[0] + 40, before[1])
        assert (await ledger.audit(engine))[1] == []
        kinds = [
            (m.kind, m.on_hand_delta, m.reference)
            for m in await ledger.movements(engine, "RICE-5KG", 1)
        ]
        assert kinds == [("receipt", 40, "wms:CGRK-1")]
    finally:
        await engine.dispose()


async def test_a_channel_buffer_keeps_the_last_units_from_that_channel_under_concurrency(
    db_url: str, tmp_path: Path
) -> None:
    """Taobao is kept 3 units from every stock row: 40 concurrent Taobao orders get 7 of the
    10 units, and the POS till still gets the last 3; the API shows both views."""
    await prepare_database(db_url)
    engine = make_engine(db_url)
    try:
        await import_catalogue(engine, Catalogue(
            products=[Product(sku="RARE-1", name="rare", unit_price="10.00", weight_g=100)],  # type: ignore[arg-type]
            stock=[StockLevel(sku="RARE-1", warehouse="SH-01", on_hand=10)],
        ))

        def plan(lines, avail, whs):  # type: ignore[no-untyped-def]
            return plan_sourcing(lines, avail, whs, "上海", sourcing())

        async def order(channel: str, i: int, buffer: int) -> bool:
            result = await inventory.reserve(engine, f"{channel}-{i}", "r1", one_unit(i), plan,
                                             allow_partial=False, buffer=buffer)
            return result.reserved

        taobao = await asyncio.gather(*(order("taobao", i, 3) for i in range(40)))
        till = await asyncio.gather(*(order("pos", i, 0) for i in range(5)))
        assert sum(taobao) == 7 and sum(till) == 3
        assert await inventory.stock_row(engine, "RARE-1", "SH-01") == (10, 10)
        settings = Settings(database_url=db_url, var_dir=tmp_path, channel_buffers={"taobao": 3})
        app = create_app(settings)
        async with engine.begin() as conn:
            await conn.execute(update(t.stock).values(on_hand=20))  # seen by the API only
        async with serve_app(app) as api, httpx.AsyncClient(
                base_url=api, headers=await auth_headers(settings)) as http:
            body = (await http.get("/v1/inventory", params={"sku": "RARE-1"})).json()
        assert body["available"] == 10 and body["available_by_channel"] == {"taobao": 7}
    finally:
        await engine.dispose()


async def test_a_purchase_receipt_confirmed_by_the_wms_is_booked_once_over_the_api(
    db_url: str, tmp_path: Path
) -> None:
    """Qimen entryorder.confirm for a purchase (CGRK): each line a receipt, keyed by entry
    order and item, so the WMS re-sending it changes nothing; a wrong signature or method
    is refused with the reason."""
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path)
    body = qimen.to_xml("request", {
        "entryOrder": {"entryOrderCode": "PO-2026-001", "warehouseCode": "GZ-01", "orderType": "CGRK",
                       "status": "FULFILLED"},
        "orderLines": [{"itemCode": "RICE-5KG", "planQty": 30, "actualQty": 28, "inventoryType": "ZP"},
                       {"itemCode": "NOODLE-5PK", "planQty": 10, "actualQty": 10, "inventoryType": "ZP"},
                       {"itemCode": "NOODLE-5PK", "planQty": 2, "actualQty": 2, "inventoryType": "CC"}],
    })

    def signed(method: str, secret: str = settings.qimen_secret) -> dict[str, str]:
        params = {"method": method, "app_key": "wms", "v": "2.0", "format": "xml", "sign_method": "md5",
                  "timestamp": "2026-11-28 09:00:00"}
        return {**params, "sign": qimen.sign(params, body, secret)}

    engine = make_engine(db_url)
    try:
        rice, noodle = (await inventory.stock_row(engine, "RICE-5KG", "GZ-01"),
                        await inventory.stock_row(engine, "NOODLE-5PK", "GZ-01"))
        async with serve_app(create_app(settings)) as api, httpx.AsyncClient(
                base_url=api, headers=await auth_headers(settings)) as http:
            first = await http.post("/v1/wms/qimen", params=signed("entryorder.confirm"), content=body)
            again = await http.post("/v1/wms/qimen", params=signed("entryorder.confirm"), content=body)
            guessed = signed("entryorder.confirm", "guess")
            forged = await http.post("/v1/wms/qimen", params=guessed, content=body)
            other = await http.post("/v1/wms/qimen", params=signed("deliveryorder.confirm"), content=body)
        assert first.status_code == again.status_code == 200 and "<flag>success</flag>" in again.text
        assert forged.status_code == 401 and "invalid signature" in forged.text
        assert other.status_code == 400 and "entryorder.confirm or returnorder.confirm" in other.text
        assert await inventory.stock_row(engine, "RICE-5KG", "GZ-01") == (rice[0] + 28, rice[1])
        assert await inventory.stock_row(engine, "NOODLE-5PK", "GZ-01") == (noodle[0] + 10, noodle[1])
        assert (await ledger.audit(engine))[1] == []
    finally:
        await engine.dispose()


async def test_defective_returns_are_kept_apart_from_sellable_stock_until_refurbished(db_url: str) -> None:
    """Units graded CC are counted at their warehouse but never available; the WMS's report
    of a refurbishment (CC out, ZP in, one outBizCode) makes them sellable, once."""
    await prepare_database(db_url)
    engine = make_engine(db_url)

    def graded(quantity: int, grade: Grade) -> ReturnedUnits:
        return ReturnedUnits(rma="RMA-1", warehouse="SH-01", sku="COKE-330-24", quantity=quantity,
                             grade=grade)

    def report(code: str, quantity: int, inventory_type: str) -> ledger.StockChange:
        return ledger.StockChange(code, "COKE-330-24", "SH-01", quantity, "KCTZ", inventory_type)

    async def shanghai() -> WarehouseStock:
        levels = await ledger.availability(engine, "COKE-330-24")
        [level] = [lv for lv in levels if lv.warehouse == "SH-01"]
        return level

    try:
        on_hand, reserved = await inventory.stock_row(engine, "COKE-330-24", "SH-01")
        before = await shanghai()
        assert await return_store.book_returned_units(engine, graded(2, "refurbish")) == "applied"
        assert await return_store.book_returned_units(engine, graded(2, "refurbish")) == "duplicate"
        assert await return_store.book_returned_units(engine, graded(1, "restock")) == "applied"
        assert (await return_store.book_returned_units(engine, graded(1, "dispose"))).startswith("not booked")
        assert await ledger.apply_stock_change(engine, report("SC-1", -1, "CC")) == "applied"
        assert await ledger.apply_stock_change(engine, report("SC-1", +1, "ZP")) == "applied"
        assert await ledger.apply_stock_change(engine, report("SC-1", -1, "CC")) == "duplicate"
        refused = await ledger.apply_stock_change(engine, report("SC-2", -2, "CC"))
        assert refused == "COKE-330-24@SH-01: defective stock would fall to -1; Ordo holds 1 defective"

        after = await shanghai()
        assert (after.on_hand, after.defective) == (on_hand + 2, 1)
        assert after.available == before.available + 2  # the defective unit is not for sale
        moves = [
            (m.kind, m.on_hand_delta, m.defective_delta, m.reference)
            for m in reversed(await ledger.movements(engine, "COKE-330-24", 4))
        ]
        assert moves == [
            ("defective", 0, 2, "wms:RMA-1:COKE-330-24:CC"),
            ("receipt", 1, 0, "wms:RMA-1:COKE-330-24"),
            ("defective", 0, -1, "wms:SC-1:CC"),
            ("adjustment", 1, 0, "wms:SC-1"),
        ]
        assert (await ledger.audit(engine))[1] == []
        async with engine.begin() as conn:  # someone edits the table behind the ledger's back
            await conn.execute(
                update(t.stock)
                .where(t.stock.c.sku == "COKE-330-24", t.stock.c.warehouse == "SH-01")
                .values(defective=5)
            )
        [drift] = (await ledger.audit(engine))[1]
        assert drift.describe() == "defective 5, ledger says 1"
        assert reserved == (await inventory.stock_row(engine, "COKE-330-24", "SH-01"))[1]
    finally:
        await engine.dispose()
