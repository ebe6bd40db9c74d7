"""Each carrier client against its simulator over real HTTP: bookings idempotent by the
shipment id, refusals told apart from outages, cancels, and each carrier's tracking pushes
read back into Ordo's states by the same code the API uses. Also the channel write-back and
the gateway's refunds."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.exceptions import ApplicationError

from activities.carriers import CarrierActivities
from activities.channels import ChannelActivities
from activities.payments import PaymentActivities
from api.routes.carriers import read_push
from config.settings import Settings
from domain.messages import (
    CancelWaybillRequest,
    ParcelLine,
    PaymentRequest,
    RefundRequest,
    Shipment,
    ShipmentNotice,
    WaybillRequest,
)
from domain.tracking import TrackingState
from simulators import carriers, marketplaces, payments
from simulators.faults import Faults
from tests.factories import make_order
from tests.harness import serve_app, wait_until

PROTOCOL = {"sf": "sf", "zto": "zto", "jd": "jdl", "dhl": "dhl"}


def shipment(sid: str) -> Shipment:
    return Shipment(
        shipment_id=sid,
        order_id="o-1",
        warehouse="SH-01",
        weight_g=1200,
        volume_cm3=6000,
        lines=[ParcelLine(sku="PHONE-X1", quantity=1)],
        service="standard",
    )


def booking(carrier: str, sid: str, street: str = "张江路88号", province: str = "上海") -> WaybillRequest:
    address = make_order("x", street=street, province=province).shipping_address
    return WaybillRequest(
        shipment=shipment(sid),
        carrier=carrier,
        address=address,
        protocol=PROTOCOL[carrier],
        level="express" if carrier == "dhl" else "standard",
        origin_province="上海",
    )


@contextlib.asynccontextmanager
async def stack(
    push_url: str = "", step: float = 0
) -> AsyncIterator[tuple[str, httpx.AsyncClient, Settings]]:
    async with (
        serve_app(carriers.create_app(Faults(0), push_url=push_url, step_seconds=step)) as url,
        httpx.AsyncClient() as http,
    ):
        yield url, http, Settings(carriers_url=url)


@pytest.mark.parametrize("carrier", ["sf", "zto", "jd", "dhl"])
async def test_a_booking_is_idempotent_a_bad_address_refused_and_an_outage_retryable(carrier: str) -> None:
    async with stack() as (url, http, settings):
        c = CarrierActivities(http, settings)
        first = await c.create_waybill(booking(carrier, "o-1-p1"))
        assert first == await c.create_waybill(booking(carrier, "o-1-p1"))  # a retry after a lost answer
        assert first != await c.create_waybill(booking(carrier, "o-1-p2"))
        with pytest.raises(ApplicationError) as refused:
            await c.create_waybill(booking(carrier, "o-1-p3", street="UNDELIVERABLE 1号"))
        assert refused.value.type == "carrier_rejected" and refused.value.non_retryable
        await http.put(f"{url}/admin/down", json=[carrier])
        with pytest.raises(httpx.HTTPStatusError):  # not the parcel's fault: Temporal retries it
            await c.create_waybill(booking(carrier, "o-1-p4"))
        await http.put(f"{url}/admin/down", json=[])
        await c.cancel_waybill(
            CancelWaybillRequest(carrier=carrier, shipment_id="o-1-p2", protocol=PROTOCOL[carrier])
        )
        booked = (await http.get(f"{url}/admin/waybills")).json()["waybills"]
        assert sorted(booked) == [f"{carrier}:o-1-p1", f"{carrier}:o-1-p2"]
        if carrier != "dhl":  # MyDHL has no cancel call; an unused label is not billed
            assert booked[f"{carrier}:o-1-p2"]["cancelled"]


async def test_coverage_gaps_are_refused_like_the_carriers_refuse_them() -> None:
    async with stack() as (_, http, settings):
        c = CarrierActivities(http, settings)
        for carrier, province in (("zto", "西藏"), ("dhl", "新疆")):
            with pytest.raises(ApplicationError, match="no service to"):
                await c.create_waybill(booking(carrier, f"o-2-{carrier}", province=province))
        assert (await c.create_waybill(booking("sf", "o-2-sf", province="西藏"))).waybill_no


@pytest.mark.parametrize(
    ("street", "last"),
    [
        ("张江路88号", TrackingState.DELIVERED),
        ("DAMAGED 张江路88号", TrackingState.DAMAGED),
        ("MISSING 张江路88号", TrackingState.LOST),
        ("NOBODY 张江路88号", TrackingState.UNDELIVERABLE),
    ],
)
async def test_every_carriers_pushes_read_back_into_ordos_states(street: str, last: TrackingState) -> None:
    heard: dict[str, list[TrackingState]] = {}
    receiver = FastAPI()
    settings = Settings()

    @receiver.post("/v1/carriers/{carrier}/events")
    async def events(carrier: str, request: Request) -> JSONResponse:
        got, ack = await read_push(request, settings)
        heard.setdefault(carrier, []).extend(e.state for e in got)
        return JSONResponse(ack)

    async with serve_app(receiver) as ordo, stack(push_url=f"{ordo}/v1/carriers", step=0.01) as (_, http, s):
        c = CarrierActivities(http, s)
        for carrier in PROTOCOL:
            await c.create_waybill(booking(carrier, f"o-3-{carrier}", street=street))

        async def all_ended() -> bool:
            return all(heard.get(k) and heard[k][-1] == last for k in PROTOCOL)

        await wait_until(all_ended, f"every carrier to push {last}")
    assert heard["sf"][0] == TrackingState.COLLECTED
    if last == TrackingState.DELIVERED:
        assert all(
            h
            == [
                TrackingState.COLLECTED,
                TrackingState.IN_TRANSIT,
                TrackingState.IN_TRANSIT,
                TrackingState.OUT_FOR_DELIVERY,
                TrackingState.DELIVERED,
            ]
            for h in heard.values()
        )


async def test_a_forged_push_is_refused() -> None:
    receiver = FastAPI()

    @receiver.post("/push")
    async def push(request: Request) -> JSONResponse:
        try:
            await read_push(request, Settings())
        except PermissionError as exc:
            return JSONResponse({"error": str(exc)}, 401)
        return JSONResponse({})

    async with serve_app(receiver) as url, httpx.AsyncClient() as http:
        sf_body: dict[str, Any] = {"Body": {"WaybillRoute": []}}
        assert (await http.post(f"{url}/push", json=sf_body)).status_code == 401
        assert (
            await http.post(
                f"{url}/push", json=sf_body, headers={"X-Ordo-Push-Secret": "carrier-demo-secret"}
            )
        ).status_code == 200
        assert (await http.post(f"{url}/push", data={"param": "{}", "sign": "FORGED"})).status_code == 401


async def test_the_waybill_reaches_shopify_and_taobao_once_however_often_it_is_sent() -> None:
    async with serve_app(marketplaces.create_app(Faults(0))) as url, httpx.AsyncClient() as http:
        chan = ChannelActivities(http, Settings(channels_url=url))
        shopify = ShipmentNotice(
            channel="shopify", external_id="5550001", shipment_id="p1", carrier="sf", waybill_no="SF100"
        )
        taobao = ShipmentNotice(
            channel="tmall",
            external_id="3000123456789012345",
            shipment_id="p2",
            carrier="zto",
            waybill_no="75300001",
            split=True,
        )
        assert (await chan.confirm_shipment(shopify)).startswith("sent: fulfillment")
        assert await chan.confirm_shipment(shopify) == "already sent"
        assert await chan.confirm_shipment(taobao) == "sent"
        assert await chan.confirm_shipment(taobao) == "already sent"
        assert (
            await chan.confirm_shipment(shopify.model_copy(update={"channel": "pos"}))
            == "no write-back for channel pos"
        )
        received = (await http.get(f"{url}/admin/received")).json()["received"]
        assert [r["channel"] for r in received] == ["shopify", "taobao"]
        assert received[0]["body"]["tracking_info"] == {
            "number": "SF100",
            "company": "SF Express",
            "url": "https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF100",
        }
        assert received[1]["body"]["tid"] == "3000123456789012345" and received[1]["body"]["is_split"] == "1"
        bad = ChannelActivities(http, Settings(channels_url=url, taobao_secret="wrong"))
        with pytest.raises(RuntimeError, match="Invalid signature"):
            await bad.confirm_shipment(taobao.model_copy(update={"waybill_no": "75300002"}))


async def test_a_split_shopify_order_is_fulfilled_parcel_by_parcel_against_its_lines() -> None:
    """The Shopify simulator seeded with the published order fixture: each parcel fulfils
    its own fulfillment order lines, the order stays in progress until the last one, a
    re-sent parcel is not fulfilled twice, and too many units are refused as Shopify does."""
    order = json.loads((Path(__file__).parents[1] / "payloads" / "shopify_orders_create.json").read_text())
    async with serve_app(marketplaces.create_app(Faults(0))) as url, httpx.AsyncClient() as http:
        await http.post(f"{url}/admin/shopify/orders", json=order)
        chan = ChannelActivities(http, Settings(channels_url=url))
        coke = ShipmentNotice(channel="shopify", external_id=str(order["id"]), shipment_id="p1", carrier="sf",
                              waybill_no="SF201", split=True, lines={"14880212123001": 2})
        tshirt = coke.model_copy(update={"shipment_id": "p2", "waybill_no": "SF202",
                                         "lines": {"14880212123002": 1}})
        fos = f"{url}/shopify/admin/api/2024-01/orders/{order['id']}/fulfillment_orders.json"
        token = {"X-Shopify-Access-Token": Settings().shopify_access_token}
        assert (await chan.confirm_shipment(coke)).startswith("sent: fulfillment")
        [partly] = (await http.get(fos, headers=token)).json()["fulfillment_orders"]
        assert partly["status"] == "in_progress"
        assert [li["fulfillable_quantity"] for li in partly["line_items"]] == [0, 1]
        again = coke.model_copy(update={"waybill_no": "SF203"})  # the same parcel, booked anew
        assert (await chan.confirm_shipment(again)).startswith("already sent")
        assert (await chan.confirm_shipment(tshirt)).startswith("sent: fulfillment")
        [closed] = (await http.get(fos, headers=token)).json()["fulfillment_orders"]
        assert closed["status"] == "closed"
        received = (await http.get(f"{url}/admin/received")).json()["received"]
        assert [r["body"]["line_items_by_fulfillment_order"][0]["fulfillment_order_line_items"]
                for r in received] == [[{"id": partly["line_items"][0]["id"], "quantity": 2}],
                                       [{"id": partly["line_items"][1]["id"], "quantity": 1}]]
        too_many = await http.post(f"{url}/shopify/admin/api/2024-01/fulfillments.json", headers=token, json={
            "fulfillment": {"tracking_info": {"number": "SF204"}, "line_items_by_fulfillment_order": [
                {"fulfillment_order_id": closed["id"],
                 "fulfillment_order_line_items": [{"id": closed["line_items"][0]["id"], "quantity": 1}]}]}})
        assert too_many.status_code == 422 and "fulfillable quantity" in too_many.text


async def test_refunds_pay_once_per_refund_number_and_never_more_than_was_captured() -> None:
    async with serve_app(payments.create_app(Faults(0), notify_url="")) as url, httpx.AsyncClient() as http:
        pay = PaymentActivities(http, Settings(payments_url=url))
        auth = await pay.authorise(
            PaymentRequest(order_id="o-9", amount=Decimal("100.00"), currency="CNY", payer_id="p")
        )
        await pay.capture(auth)
        first = await pay.refund(
            RefundRequest(order_id="o-9", refund_no="RMA-o-9-1", amount=Decimal("30.00"))
        )
        again = await pay.refund(
            RefundRequest(order_id="o-9", refund_no="RMA-o-9-1", amount=Decimal("30.00"))
        )
        assert first == again and first.refunded_total == Decimal("30.00")
        second = await pay.refund(
            RefundRequest(order_id="o-9", refund_no="RMA-o-9-2", amount=Decimal("70.00"))
        )
        assert second.refunded_total == Decimal("100.00")
        with pytest.raises(ApplicationError, match="exceeds what is left"):
            await pay.refund(RefundRequest(order_id="o-9", refund_no="RMA-o-9-3", amount=Decimal("0.01")))
        ledger: dict[str, Any] = (await http.get(f"{url}/admin/ledger")).json()
        assert len(ledger["refunds"]) == 2 and ledger["trades"]["o-9"]["trade_status"] == "TRADE_CLOSED"
