"""Intake over HTTP: every channel's endpoint takes its documented payload into the inbox
(202), answers a redelivery 200 with the same ids, refuses bad input precisely (kept as a
dead letter), and no hostile payload gets a 5xx or goes missing. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select

from api.app import create_app
from channels import shopify
from config.settings import PROJECT_ROOT, Settings
from domain.access import Role
from domain.model import Catalogue, Product
from store import inbox as inbox_store
from store import tables as t
from store.catalog import import_catalogue
from store.db import make_engine
from tests.harness import api_key, auth_headers, prepare_database, serve_app

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
SECRET = "test-shopify-secret"
JSON = {"content-type": "application/json"}


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def signed(body: bytes, topic: str = "orders/create") -> dict[str, str]:
    return {**JSON, "X-Shopify-Hmac-Sha256": shopify.sign(body, SECRET), "X-Shopify-Topic": topic}


CASES = [
    ("/v1/channels/shopify/orders", "shopify_orders_create.json", "shopify-5794830778425"),
    ("/v1/channels/tmall/orders", "taobao_trade_fullinfo.json", "tmall-3615284739201058842"),
    ("/v1/channels/jd/orders", "jd_pop_order_get.json", "jd-289345671234"),
    ("/v1/channels/erp/orders", "erp_sales_order.json", "erp-4500012345"),
]


async def test_every_channel_lands_in_the_inbox_once(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path, shopify_secret=SECRET)
    app = create_app(settings)
    async with serve_app(app) as api, httpx.AsyncClient(
            base_url=api, timeout=30, headers=await auth_headers(settings)) as http:
        for path, name, order_id in CASES:
            body = payload(name)
            headers = signed(body) if "shopify" in path else JSON
            first = await http.post(path, content=body, headers=headers)
            assert first.status_code == 202, first.text
            assert (first.json()["order_id"], first.json()["duplicate"]) == (order_id, False)
            again = await http.post(path, content=body, headers=headers)
            assert again.status_code == 200 and again.json()["duplicate"] is True
            assert again.json()["inbox_id"] == first.json()["inbox_id"]

        text = "我要3箱可口可乐330ml，送到上海市浦东新区张江路88号，电话13812345678".encode()
        reply = await http.post(
            "/v1/channels/text/orders", content=text, headers={"content-type": "text/plain; charset=utf-8"}
        )
        assert reply.status_code == 202 and reply.json()["notes"] == ["COKE-330-24 x3 (confidence 1.00)"]

        batch = await http.post(
            "/v1/channels/pos/batches", content=payload("pos_batch.csv"), headers={"content-type": "text/csv"}
        )
        assert batch.status_code == 200
        assert [a["order_id"] for a in batch.json()["accepted"]] == [
            "pos-SH-JA-01-T0001",
            "pos-SH-JA-01-T0003",
        ]
        assert batch.json()["rejected_transactions"] == ["SH-JA-01-T0002", "SH-JA-01-T0004"]

        canonical = await http.post("/v1/orders", json={"channel": "shopify"})
        assert canonical.status_code == 422 and canonical.json()["dead_letter_id"]

        counts = (await http.get("/v1/intake")).json()
    assert counts == {
        "inbox": {"pending": 7},
        "dead_letters": 2,
    }  # 4 channels + text + 2 POS; POS file + canonical
    db = make_engine(db_url)
    try:
        rows = await inbox_store.pending(db, 100)
    finally:
        await db.dispose()
    shop = next(r for r in rows if r.channel == "shopify")
    assert shop.body == payload("shopify_orders_create.json").decode()  # kept exactly as received
    assert shop.canonical["total"] == "220.00" and shop.dedupe_key == "order:shopify:5794830778425"


async def test_refusals_are_precise_and_nothing_unsigned_is_kept(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path, shopify_secret=SECRET)
    app = create_app(settings)
    body = payload("shopify_orders_create.json")
    async with serve_app(app) as api, httpx.AsyncClient(
            base_url=api, timeout=30, headers=await auth_headers(settings)) as http:
        forged = await http.post(
            "/v1/channels/shopify/orders",
            content=body,
            headers={**JSON, "X-Shopify-Hmac-Sha256": shopify.sign(body, "wrong")},
        )
        assert forged.status_code == 401 and "ORDO_SHOPIFY_SECRET" in forged.json()["error"]
        assert (
            await http.post(
                "/v1/channels/jd/orders", content=b"<xml/>", headers={"content-type": "application/xml"}
            )
        ).status_code == 415
        assert (
            await http.post("/v1/orders", content=b"{" + b" " * 1_000_001 + b"}", headers=JSON)
        ).status_code == 413
        bad_utf8 = await http.post(
            "/v1/channels/erp/orders", content=b'{"SalesOrder": "\xff\xfe"}', headers=JSON
        )
        assert bad_utf8.status_code == 422 and bad_utf8.json()["errors"][0]["field"] == "body"
        deep = await http.post("/v1/orders", content=b"[" * 5000 + b"]" * 5000, headers=JSON)
        assert deep.status_code == 422 and "nested deeper" in deep.json()["errors"][0]["reason"]
        jd_bad = json.loads(payload("jd_pop_order_get.json"))
        info = jd_bad["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]
        info["consigneeInfo"]["province"] = "火星"
        reply = await http.post("/v1/channels/jd/orders", json=jd_bad)
        assert reply.status_code == 422
        assert reply.json()["errors"] == [
            {
                "field": "orderInfo.consigneeInfo.province",
                "reason": "'火星' is not a province of mainland China Ordo ships to",
            }
        ]
        counts = (await http.get("/v1/intake")).json()
    assert counts == {"inbox": {}, "dead_letters": 3}  # bad UTF-8, too deep, bad province; not the forgery


def ordo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env, "COLUMNS": "200"},
    )


async def test_import_dead_letters_and_retry_after_the_catalogue_is_fixed(
    db_url: str, tmp_path: Path
) -> None:
    await prepare_database(db_url)
    env = {"ORDO_DATABASE_URL": db_url, "ORDO_VAR_DIR": str(tmp_path)}
    message = tmp_path / "msg.txt"
    message.write_text("我要2个蓝牙音箱，送到上海市浦东新区张江路88号，电话13812345678", encoding="utf-8")
    refused = await asyncio.to_thread(ordo, "import", str(message), "--channel", "text", env=env)
    assert refused.returncode == 1 and "matches no product in the catalogue" in refused.stdout
    listed = await asyncio.to_thread(ordo, "intake", "dead-letters", "--json", env=env)
    [dead] = json.loads(listed.stdout)
    assert dead["channel"] == "text" and "蓝牙音箱" in dead["body"]
    assert "电话138****5678" in dead["body"]  # listed masked; the retry below reads the original

    db = make_engine(db_url)
    try:
        await import_catalogue(
            db,
            Catalogue(
                products=[Product(sku="SPEAKER-BT9", name="蓝牙音箱 BT9", unit_price="299.00", weight_g=800)]
            ),
        )
    finally:
        await db.dispose()
    retried = await asyncio.to_thread(ordo, "intake", "retry", str(dead["id"]), env=env)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"dead letter {dead['id']} accepted: text-m" in retried.stdout
    assert (
        json.loads((await asyncio.to_thread(ordo, "intake", "dead-letters", "--json", env=env)).stdout) == []
    )

    files = [(str(PAYLOADS / "jd_pop_order_get.json"), "jd"), (str(PAYLOADS / "pos_batch.csv"), "pos")]
    for path, channel in files:
        out = await asyncio.to_thread(ordo, "import", path, "--channel", channel, env=env)
        assert out.returncode == 0, out.stdout + out.stderr
    again = await asyncio.to_thread(ordo, "import", files[0][0], "--channel", "jd", env=env)
    assert "0 accepted, 1 duplicates, 0 refused" in again.stdout
    schema = json.loads((await asyncio.to_thread(ordo, "schema", "order", env=env)).stdout)
    assert {"lines", "shipping_address", "total"} <= set(schema["required"])


# ---- hostile payloads -------------------------------------------------------------------

ENDPOINTS = [
    "/v1/orders",
    "/v1/channels/shopify/orders",
    "/v1/channels/taobao/orders",
    "/v1/channels/jd/orders",
    "/v1/channels/erp/orders",
    "/v1/channels/text/orders",
    "/v1/channels/pos/batches",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)


def _mutations() -> st.SearchStrategy[bytes]:
    valid = [
        payload(n)
        for n in (
            "shopify_orders_create.json",
            "taobao_trade_fullinfo.json",
            "jd_pop_order_get.json",
            "erp_sales_order.json",
        )
    ]

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = json.loads(draw(st.sampled_from(valid)))
        node = data
        for _ in range(draw(st.integers(0, 4))):  # walk somewhere into the document
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
                if draw(st.booleans()) or not isinstance(node[key], dict | list):
                    node[key] = draw(json_values)
                    break
                node = node[key]
            elif isinstance(node, list) and node:
                node = node[draw(st.integers(0, len(node) - 1))]
            else:
                break
        return json.dumps(data, ensure_ascii=False).encode()

    return mutate()


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    _mutations(),
    st.text(max_size=200).map(str.encode),
    st.just(b"[" * 3000),
    st.just(b'{"a":' * 2000),
    st.just("\ud800".encode("utf-8", "surrogatepass")),
)


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    tmp = tmp_path_factory.mktemp("hostile")
    url = f"sqlite+aiosqlite:///{tmp / 'ordo.db'}"
    asyncio.run(prepare_database(url))
    settings = Settings(database_url=url, var_dir=tmp, shopify_secret=SECRET)
    app = create_app(settings)
    key = asyncio.run(api_key(settings, Role.OPERATOR))
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {key}"}) as client:
        yield client, str(tmp / "ordo.db")


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    body=bodies,
    ctype=st.sampled_from(["application/json", "text/plain", "text/csv", "application/xml", ""]),
)
def test_hostile_payloads_get_no_5xx_and_none_is_lost(
    hostile_client: tuple[TestClient, str], endpoint: str, body: bytes, ctype: str
) -> None:
    client, path = hostile_client
    sync = create_engine(f"sqlite:///{path}")
    with sync.connect() as conn:
        before = (
            conn.execute(select(func.count()).select_from(t.inbox)).scalar_one(),
            conn.execute(select(func.count()).select_from(t.dead_letters)).scalar_one(),
        )
    headers = {"content-type": ctype} if ctype else {}
    if "shopify" in endpoint:
        headers.update({"X-Shopify-Hmac-Sha256": shopify.sign(body, SECRET)})
    reply = client.post(endpoint, content=body, headers=headers)
    assert reply.status_code < 500, (reply.status_code, reply.text)
    with sync.connect() as conn:
        after = (
            conn.execute(select(func.count()).select_from(t.inbox)).scalar_one(),
            conn.execute(select(func.count()).select_from(t.dead_letters)).scalar_one(),
        )
        kept = conn.execute(
            select(t.dead_letters.c.body).order_by(t.dead_letters.c.id.desc()).limit(1)
        ).first()
    sync.dispose()
    if reply.status_code == 422:  # refused: kept as received (invalid UTF-8 replaced, nothing dropped)
        assert after[1] == before[1] + 1
        assert kept is not None and kept.body == body.decode("utf-8", errors="replace")
    elif reply.status_code in (200, 202):
        accepted = reply.json()
        assert after[0] >= before[0] and (accepted.get("inbox_id") or accepted.get("accepted") is not None)
    else:
        assert reply.status_code in (400, 401, 404, 413, 415), reply.status_code
        assert after == before


async def test_a_re_sent_trade_with_a_refund_in_flight_holds_the_order(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path, shopify_secret=SECRET)
    app = create_app(settings)
    trade = json.loads(payload("taobao_trade_fullinfo.json"))
    async with serve_app(app) as api, httpx.AsyncClient(
            base_url=api, timeout=30, headers=await auth_headers(settings)) as http:
        first = await http.post("/v1/channels/taobao/orders", json=trade)
        trade["trade_fullinfo_get_response"]["trade"]["orders"]["order"][1]["refund_status"] = (
            "WAIT_SELLER_AGREE"
        )
        again = await http.post("/v1/channels/taobao/orders", json=trade)
        once_more = await http.post("/v1/channels/taobao/orders", json=trade)  # TMC redelivers
    assert first.status_code == 202 and again.status_code == 200 and once_more.status_code == 200
    db = make_engine(db_url)
    try:
        rows = await inbox_store.for_order(db, "taobao-3615284739201058842")
    finally:
        await db.dispose()
    assert [r.kind for r in rows] == ["order", "hold"]  # one hold, however often it is re-sent
    assert "refund WAIT_SELLER_AGREE" in rows[1].canonical["reason"]
