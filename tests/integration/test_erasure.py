"""PIPL erasure over the API: an order and an address change go in, the customer is erased,
and the phone number and street are then nowhere in the database: not in the SQLite file
and its write-ahead log (read as bytes), not in any column of any PostgreSQL table; the
order's figures stay and its personal fields read `[erased]`. Before erasure the same
search finds them only where they belong (sealed in the vault: so not in clear text; the
raw payload in the inbox: in clear text), which shows the search can find what it looks
for. Temporal is not needed: the order waits in the inbox (e2e covers the histories)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from sqlalchemy import select

from api.app import create_app
from api.dispatcher import keep_retention
from config.settings import Settings
from domain.access import SYSTEM, Role
from services.audit import Audit
from services.privacy import Privacy
from store import inbox as inbox_store
from store import tables as t
from store.db import make_engine
from tests.factories import order_payload
from tests.harness import auth_headers, database_text, prepare_database, serve_app, wait_until

PHONE, STREET = "13998765432", "长乐路777弄9号"
NEW_STREET = "淮海中路1045号"


async def test_erasing_a_customer_leaves_their_phone_and_street_nowhere_in_the_database(
    db_url: str, tmp_path: Path,
) -> None:
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path, temporal_address="127.0.0.1:1")
    engine = make_engine(db_url)
    payload = order_payload("ERASE-1", channel="tmall", street=STREET)
    payload["shipping_address"]["phone"] = PHONE
    payload["customer"]["id"] = "cust-erase-me"
    try:
        async with serve_app(create_app(settings)) as url, \
                httpx.AsyncClient(base_url=url, timeout=30, headers=await auth_headers(settings)) as http:
            accepted = await http.post("/v1/orders", json=payload)
            assert accepted.status_code == 202, accepted.text
            async with engine.connect() as conn:
                canonical = (await conn.execute(select(t.inbox.c.canonical))).scalar_one()
            assert canonical["shipping_address"]["phone"].startswith("pii:")  # what Temporal will get
            assert canonical["shipping_address"]["city"] == "上海市"  # the rules' regions stay

            before = await database_text(engine, db_url)
            assert PHONE.encode() in before  # the raw payload as received, in the inbox
            shown = await http.get("/v1/orders/tmall-ERASE-1", params={"reveal": "customer-care"})
            assert shown.json()["order"]["shipping_address"]["street"] == STREET

            erased = await http.post("/v1/privacy/erase", json={"customer_id": "cust-erase-me"})
            assert erased.status_code == 200, erased.text
            assert erased.json()["orders"] == ["tmall-ERASE-1"] and erased.json()["vault_records"] == 1

            after = await database_text(engine, db_url)
            for secret in (PHONE, STREET, "长乐路"):
                assert secret.encode() not in after, secret
            gone = (await http.get("/v1/orders/tmall-ERASE-1", params={"reveal": "customer-care"})).json()
            address = gone["order"]["shipping_address"]
            assert (address["name"], address["phone"], address["street"]) == ("[erased]",) * 3
            assert gone["order"]["total"] == payload["total"]  # the figures stay for the books
            trail = (await http.get("/v1/audit", params={"action": "privacy.*"})).json()["entries"]
            assert [(e["target"], e["detail"]) for e in trail] == [("customer:cust-erase-me", {"orders": 1})]
            assert PHONE not in json.dumps(trail)
    finally:
        await engine.dispose()


async def test_retention_purges_what_is_old_enough_and_only_that(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path, temporal_address="127.0.0.1:1")
    async with serve_app(create_app(settings)) as url, \
            httpx.AsyncClient(base_url=url, timeout=30, headers=await auth_headers(settings)) as http:
        refused = await http.post("/v1/orders", json={"note": f"call {PHONE}"})
        assert refused.status_code == 422
        kept = await http.post("/v1/privacy/purge", json={"older_than_days": 1})
        assert kept.json() == {"customer_id": "", "orders": [], "vault_records": 0, "raw_rows": 0}
        operator = await auth_headers(settings, Role.OPERATOR)
        refused_role = await http.post("/v1/privacy/purge", json={"older_than_days": 1}, headers=operator)
        assert refused_role.status_code == 403
        async def purged() -> int:  # the dead letter, once it is older than a tenth of a second
            answer = await http.post("/v1/privacy/purge", json={"older_than_days": 0.000001})
            return int(answer.json()["raw_rows"])

        assert await wait_until(purged, "the dead letter to be old enough", within=10) == 1


async def test_the_dispatcher_applies_the_retention_schedule_by_itself(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path)
    engine = make_engine(db_url)
    try:
        await inbox_store.add_dead_letter(engine, "canonical", f"call {PHONE}", [])
        audit = Audit(engine, engine, settings)
        stop = asyncio.Event()
        # a tenth of a second's retention, checked every 60 ms: the letter goes on a pass soon after
        task = asyncio.create_task(keep_retention(stop, Privacy(engine, audit), 0.000001, 0.001))

        async def purged() -> bool:
            return bool(await audit.entries(SYSTEM, action="privacy.retention"))

        await wait_until(purged, "the retention schedule's first pass")
        stop.set()
        await asyncio.wait_for(task, 10)
        async with engine.connect() as conn:
            assert (await conn.execute(select(t.dead_letters.c.body))).scalar_one() == "[erased]"
    finally:
        await engine.dispose()
