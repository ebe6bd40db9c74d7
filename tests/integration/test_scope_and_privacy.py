"""What each caller sees: a Tmall shop's staff only Tmall orders (detail, batch statuses,
counts, returns), a warehouse-scoped operator only its warehouse's stock and transfers;
personal data masked for everyone until revealed with a purpose by someone with
`pii:read`, each reveal in the audit trail; and a trail edited behind Ordo's back is
caught, naming the row. On SQLite and PostgreSQL; Temporal is not needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest_asyncio
from google.protobuf import json_format
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.common.v1 import Payload, Payloads

from api.app import create_app
from config.codec import EncryptionCodec
from config.sealing import sealer
from config.settings import Settings
from domain.access import Role
from store import orders as order_store
from store import tables as t
from store.db import make_engine
from tests.factories import make_order
from tests.harness import auth_headers, prepare_database, serve_app


@dataclass
class Stack:
    http: httpx.AsyncClient
    settings: Settings
    db: AsyncEngine

    async def as_(self, role: Role, channels: list[str] | None = None,
                  warehouses: list[str] | None = None) -> dict[str, str]:
        return await auth_headers(self.settings, role, channels, warehouses)


@pytest_asyncio.fixture
async def stack(db_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    await prepare_database(db_url)
    db = make_engine(db_url)
    for order in (make_order("T1", channel="tmall"), make_order("T2", channel="tmall"),
                  make_order("J1", channel="jd")):
        await order_store.save_order(db, order)
    settings = Settings(database_url=db_url, var_dir=tmp_path, temporal_address="127.0.0.1:1")
    try:
        async with serve_app(create_app(settings)) as url, \
                httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield Stack(http, settings, db)
    finally:
        await db.dispose()


async def test_a_channel_scoped_user_sees_only_its_channel(stack: Stack) -> None:
    http, tmall = stack.http, await stack.as_(Role.VIEWER, ["tmall"])
    assert (await http.get("/v1/orders/tmall-T1", headers=tmall)).status_code == 200
    jd = await http.get("/v1/orders/jd-J1", headers=tmall)
    assert jd.status_code == 404 and "in your channels (tmall)" in jd.json()["error"]
    assert (await http.get("/v1/orders/jd-J1/returns", headers=tmall)).status_code == 404
    assert (await http.get("/v1/orders", headers=tmall)).json() == {"by_status": {"received": 2}}
    everyone = await stack.as_(Role.VIEWER)
    assert (await http.get("/v1/orders", headers=everyone)).json() == {"by_status": {"received": 3}}
    batch = await http.post("/v1/orders/statuses", json={"order_ids": ["tmall-T1", "jd-J1"]}, headers=tmall)
    assert batch.json()["orders"] == {"tmall-T1": "received"}

    submit = await stack.as_(Role.OPERATOR, ["tmall"])
    foreign = make_order("J2", channel="jd").model_dump(mode="json")
    r = await http.post("/v1/orders", json=foreign, headers=submit)
    assert r.status_code == 403 and "not of 'jd'" in r.json()["error"]
    assert (await http.post("/v1/orders", json=make_order("T3", channel="tmall").model_dump(mode="json"),
                            headers=submit)).status_code == 202


async def test_a_warehouse_scoped_operator_sees_and_moves_only_its_stock(stack: Stack) -> None:
    http, sh = stack.http, await stack.as_(Role.OPERATOR, warehouses=["SH-01"])
    stock = (await http.get("/v1/inventory", params={"sku": "RICE-5KG"}, headers=sh)).json()
    assert [w["warehouse"] for w in stock["warehouses"]] == ["SH-01"]
    full = (await http.get("/v1/inventory", params={"sku": "RICE-5KG"}, headers=await stack.as_(Role.VIEWER)))
    assert len(full.json()["warehouses"]) > 1
    move = {"sku": "RICE-5KG", "from_warehouse": "BJ-01", "to_warehouse": "GZ-01", "quantity": 1}
    r = await http.post("/v1/inventory/transfers", json=move, headers=sh)
    assert r.status_code == 403 and "BJ-01, GZ-01 is outside your scope" in r.json()["error"]
    r = await http.post("/v1/inventory/reconcile", json={"confirm_seconds": 0, "alert_units": 5}, headers=sh)
    assert r.status_code == 403 and "covers every warehouse" in r.json()["error"]


async def test_personal_data_is_masked_until_revealed_with_a_purpose_and_each_reveal_is_audited(
    stack: Stack,
) -> None:
    http = stack.http
    admin, viewer, operator = (await stack.as_(Role.ADMIN), await stack.as_(Role.VIEWER),
                               await stack.as_(Role.OPERATOR))
    for who in (viewer, operator, admin):  # masked by default, for everyone
        body = (await http.get("/v1/orders/tmall-T1", headers=who)).json()
        address = body["order"]["shipping_address"]
        assert (address["name"], address["phone"], address["street"]) == ("张*", "138****5678", "浦东****")
        assert address["city"] == "上海市"  # the region the rules use is not personal
        assert "13812345678" not in str(body) and "张江路88号" not in str(body)
    refused = await http.get("/v1/orders/tmall-T1", params={"reveal": "shipping"}, headers=viewer)
    assert refused.status_code == 403 and "pii:read" in refused.json()["error"]
    bad = await http.get("/v1/orders/tmall-T1", params={"reveal": "curiosity"}, headers=operator)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.reveal"
    shown = await http.get("/v1/orders/tmall-T1", params={"reveal": "after-sales"}, headers=operator)
    assert shown.json()["order"]["shipping_address"]["phone"] == "13812345678"

    trail = (await http.get("/v1/audit", params={"action": "pii.*"}, headers=admin)).json()["entries"]
    assert [(e["action"], e["target"], e["detail"]) for e in trail] == [
        ("pii.reveal", "tmall-T1", {"purpose": "after-sales"})]
    assert trail[0]["actor"].startswith("token:test-operator")
    assert (await http.get("/v1/audit", headers=operator)).status_code == 403


async def test_the_audit_trail_names_the_first_row_edited_or_deleted_behind_its_back(stack: Stack) -> None:
    http, admin = stack.http, await stack.as_(Role.ADMIN)
    for name in ("a", "b", "c"):
        made = await http.post("/v1/tokens", json={"name": name, "role": "viewer"}, headers=admin)
        assert made.status_code == 201
    clean = (await http.get("/v1/audit/verify", headers=admin)).json()
    assert clean["ok"] and clean["checked"] == 4  # the test's key, then a, b and c

    async def edit(statement: object) -> dict[str, object]:
        async with stack.db.begin() as conn:
            await conn.execute(statement)  # type: ignore[call-overload]
        answer: dict[str, object] = (await http.get("/v1/audit/verify", headers=admin)).json()
        return answer

    changed = await edit(update(t.audit_log).where(t.audit_log.c.seq == 3).values(actor="user:nobody"))
    assert (changed["ok"], changed["first_bad_seq"]) == (False, 3) and "changed" in str(changed["problem"])
    deleted = await edit(delete(t.audit_log).where(t.audit_log.c.seq == 2))
    assert deleted["first_bad_seq"] == 2 and "deleted" in str(deleted["problem"])


async def test_cutting_rows_off_the_end_of_the_trail_is_caught(stack: Stack) -> None:
    http, admin = stack.http, await stack.as_(Role.ADMIN)
    await http.post("/v1/tokens", json={"name": "last", "role": "viewer"}, headers=admin)
    async with stack.db.begin() as conn:  # the newest row (the key "last") goes
        await conn.execute(delete(t.audit_log).where(t.audit_log.c.seq == 2))
    cut = (await http.get("/v1/audit/verify", headers=admin)).json()
    assert (cut["ok"], cut["checked"], cut["first_bad_seq"]) == (False, 1, 2)
    assert "deleted from its end" in cut["problem"]


async def test_the_codec_server_decodes_for_pii_read_only_and_answers_the_ui_origin(stack: Stack) -> None:
    http = stack.http
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'{"total": "128.00"}')
    [sealed] = await EncryptionCodec(sealer(stack.settings.var_dir, "codec")).encode([original])
    body = json_format.MessageToDict(Payloads(payloads=[sealed]))
    viewer = await http.post("/codec/decode", json=body, headers=await stack.as_(Role.VIEWER))
    assert viewer.status_code == 403
    assert (await http.post("/codec/decode", json=body)).status_code == 401
    r = await http.post("/codec/decode", json=body, headers=await stack.as_(Role.OPERATOR))
    assert r.status_code == 200
    assert json_format.ParseDict(r.json(), Payloads()).payloads[0] == original

    ui = f"http://127.0.0.1:{stack.settings.temporal_ui_port}"
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = await http.options("/codec/decode", headers={"Origin": ui, **ask})
    assert allowed.headers["access-control-allow-origin"] == ui
    assert allowed.headers["access-control-allow-credentials"] == "true"
    other = await http.options("/codec/decode", headers={"Origin": "http://evil.example", **ask})
    assert "access-control-allow-origin" not in other.headers
