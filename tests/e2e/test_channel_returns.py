"""Returns asked for on the channels, through the whole running stack: a Shopify order
delivered through the carrier's pushes, then Shopify's signed `returns/request` webhook; and
Taobao refunds that are not returns Ordo can take, kept as dead letters."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

from channels import shopify
from config.settings import Settings
from tests.e2e.conftest import Ordo
from tests.e2e.test_stack import settled
from tests.harness import wait_until
from tests.unit.test_channels import load


def signed(body: bytes, topic: str, secret: str) -> dict[str, str]:
    return {"content-type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": shopify.sign(body, secret)}


async def test_a_shopify_return_request_becomes_an_rma_for_the_line_and_is_refunded_once(ordo: Ordo) -> None:
    secret = Settings().shopify_secret
    order = load("shopify_orders_create.json")
    order["id"] = uuid.uuid4().int % 10**13
    order_id = f"shopify-{order['id']}"
    create = json.dumps(order).encode()
    ask = load("shopify_returns_request.json")
    ask["id"], ask["order"]["id"] = uuid.uuid4().int % 10**10, order["id"]
    body = json.dumps(ask).encode()
    shop = ordo.env["ORDO_CHANNELS_URL"]
    async with ordo.client(timeout=30) as http:
        await http.post(f"{shop}/admin/shopify/orders", json=order)  # the store's side of the order
        created = await http.post(f"{ordo.api}/v1/channels/shopify/orders", content=create,
                                  headers=signed(create, "orders/create", secret))
        assert created.status_code == 202, created.text
        done = await wait_until(functools.partial(settled, ordo, order_id), "the order to settle", within=150)
        assert done["status"] == "completed", done
        tshirt = next(ln for ln in done["order"]["lines"] if ln["sku"] == "TSHIRT-M")
        assert tshirt["channel_line_id"] == "14880212123002"
        # every parcel told Shopify which of the order's lines it carries, and all of them went
        token = {"X-Shopify-Access-Token": Settings().shopify_access_token}
        fos = f"{shop}/shopify/admin/api/2024-01/orders/{order['id']}/fulfillment_orders.json"

        async def listed() -> list[dict[str, Any]] | None:
            reply = await http.get(fos, headers=token)  # the simulator fails 10% of calls, as a store may
            return reply.json()["fulfillment_orders"] if reply.status_code == 200 else None

        [fo] = await wait_until(listed, "Shopify to list the fulfillment orders", within=30)
        sent = [r["body"]["line_items_by_fulfillment_order"][0] for r in
                (await http.get(f"{shop}/admin/received")).json()["received"] if r["channel"] == "shopify"]
        named: dict[int, int] = {}
        for group in (g for g in sent if g["fulfillment_order_id"] == fo["id"]):
            for item in group["fulfillment_order_line_items"]:
                named[item["id"]] = named.get(item["id"], 0) + item["quantity"]
        assert fo["status"] == "closed" and named == {li["id"]: li["quantity"] for li in fo["line_items"]}

        forged = await http.post(f"{ordo.api}/v1/channels/shopify/returns", content=body,
                                 headers=signed(body, "returns/request", "not-the-secret"))
        first = await http.post(f"{ordo.api}/v1/channels/shopify/returns", content=body,
                                headers=signed(body, "returns/request", secret))
        again = await http.post(f"{ordo.api}/v1/channels/shopify/returns", content=body,
                                headers=signed(body, "returns/request", secret))
        assert forged.status_code == 401
        assert (first.status_code, again.status_code) == (202, 200), first.text
        rma = first.json()["rma"]
        assert again.json()["rma"] == rma

        async def refunded() -> dict[str, Any] | None:
            state = (await http.get(f"{ordo.api}/v1/returns/{rma}")).json().get("state") or {}
            return state if state.get("status") == "refunded" else None

        state = await wait_until(refunded, "the return to be received and refunded", within=120)
        lines = [(ln["sku"], ln["quantity"], ln["reason"]) for ln in state["lines"]]
        assert lines == [("TSHIRT-M", 1, "size_fit")]
        row = (await http.get(f"{ordo.api}/v1/returns/{rma}")).json()
        assert (row["order_id"], row["request_id"]) == (order_id, f"shopify-return-{ask['id']}")
        ledger = (await http.get(f"{ordo.env['ORDO_PAYMENTS_URL']}/admin/ledger")).json()
        assert [k for k, v in ledger["refunds"].items() if v["out_trade_no"] == order_id] == [rma]


async def test_taobao_refunds_ordo_cannot_take_are_kept_with_the_reason(ordo: Ordo) -> None:
    refund = load("taobao_refund_get.json")
    refund["refund_get_response"]["refund"]["tid"] = tid = 10**18 + uuid.uuid4().int % 10**17
    unknown = json.dumps(refund).encode()
    refund["refund_get_response"]["refund"]["has_good_return"] = False
    money_only = json.dumps(refund).encode()
    async with ordo.client(timeout=30) as http:
        never_seen = await http.post(f"{ordo.api}/v1/channels/taobao/returns", content=unknown)
        no_goods = await http.post(f"{ordo.api}/v1/channels/tmall/returns", content=money_only)
        elsewhere = await http.post(f"{ordo.api}/v1/channels/jd/returns", content=unknown)
    assert never_seen.status_code == 404 and never_seen.json()["dead_letter_id"]
    assert f"taobao-{tid}" in never_seen.json()["errors"][0]["reason"]
    assert no_goods.status_code == 422 and no_goods.json()["dead_letter_id"]
    assert no_goods.json()["errors"][0]["field"] == "refund.has_good_return"
    assert elsewhere.status_code == 404 and "shopify, taobao or tmall" in elsewhere.json()["error"]
