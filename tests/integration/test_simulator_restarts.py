"""A restarted simulator resumes for real: what it promised before the restart it still knows
(issue 13: captures failed with "no live authorisation" after the payment simulator restarted)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request

from activities.carriers import CarrierActivities
from activities.payments import PaymentActivities
from activities.wms import WmsActivities
from config.settings import Settings
from domain.messages import DeliveryOrderRequest, ParcelLine, PaymentRequest, Shipment, WaybillRequest
from domain.wire import top
from simulators import carriers, marketplaces, payments, wms
from simulators.faults import Faults
from simulators.state import SimState
from tests.factories import make_order
from tests.harness import serve_app, wait_until

ADDRESS = make_order("x").shipping_address


def shipment(order_id: str) -> Shipment:
    return Shipment(shipment_id=f"{order_id}-p1", order_id=order_id, warehouse="SH-01",
                    lines=[ParcelLine(sku="COKE-330-24", quantity=2)], weight_g=16800, service="standard")


def booking(order_id: str) -> WaybillRequest:
    return WaybillRequest(shipment=shipment(order_id), carrier="sf", address=ADDRESS)


async def test_an_authorisation_made_before_a_restart_is_captured_after_it(tmp_path: Path) -> None:
    req = PaymentRequest(order_id="o-1", amount=Decimal("118.00"), currency="CNY", payer_id="p")
    async with httpx.AsyncClient() as http:
        async with serve_app(payments.create_app(Faults(0), "", SimState("payments", tmp_path))) as url:
            auth = await PaymentActivities(http, Settings(payments_url=url)).authorise(req)
        async with serve_app(payments.create_app(Faults(0), "", SimState("payments", tmp_path))) as url:
            pay = PaymentActivities(http, Settings(payments_url=url))
            assert (await pay.authorise(req)).reference == auth.reference  # the same freeze, not a second
            captured = await pay.capture(auth)
            ledger = (await http.get(f"{url}/admin/ledger")).json()
    assert captured.reference
    assert len(ledger["auths"]) == 1 and list(ledger["auths"].values())[0]["status"] == "CAPTURED"
    assert len(ledger["trades"]) == 1


async def test_a_restarted_carrier_keeps_its_waybills_and_resumes_each_journey(tmp_path: Path) -> None:
    """Before the restart: one parcel booked, part of its journey pushed. After it: the same
    booking answers with the same number, a new booking gets the next number (not a reused
    one), and the first parcel's journey carries on from the last acknowledged step, never
    re-sending one that was acknowledged."""
    codes: list[str] = []
    receiver = FastAPI()

    @receiver.post("/{carrier}/events")
    async def events(carrier: str, request: Request) -> dict[str, Any]:
        codes.append((await request.json())["Body"]["WaybillRoute"][0]["opCode"])
        return {"return_code": "0000"}

    async with serve_app(receiver) as push_url, httpx.AsyncClient() as http:
        def carrier_app() -> FastAPI:
            return carriers.create_app(Faults(0), push_url=push_url, step_seconds=0.1,
                                       state=SimState("carriers", tmp_path))

        async with serve_app(carrier_app()) as url:
            c = CarrierActivities(http, Settings(carriers_url=url))
            first = await c.create_waybill(booking("o-1"))

            async def two_pushed() -> bool:
                return len(codes) >= 2
            await wait_until(two_pushed, "two tracking pushes")
        acked_before = SimState("carriers", tmp_path).records("waybills")["sf:o-1-p1"]["acked"]
        pushed_before = len(codes)

        async with serve_app(carrier_app()) as url:
            c = CarrierActivities(http, Settings(carriers_url=url))
            again, second = await c.create_waybill(booking("o-1")), await c.create_waybill(booking("o-2"))

            async def journey_over() -> bool:
                return bool((await http.get(f"{url}/admin/waybills")).json()["waybills"]["sf:o-1-p1"]["done"])
            await wait_until(journey_over, "the first parcel's journey to finish")
    journey = [code for _, code, *_ in carriers.JOURNEY]
    assert again.waybill_no == first.waybill_no
    assert int(second.waybill_no[2:]) == int(first.waybill_no[2:]) + 1
    resumed = codes[pushed_before:]
    assert resumed and journey.index(resumed[0]) >= acked_before  # nothing acknowledged is sent again
    assert list(dict.fromkeys(codes)) == journey  # and nothing is skipped


async def test_the_wms_remembers_accepted_orders_and_its_stock_across_a_restart(tmp_path: Path) -> None:
    req = DeliveryOrderRequest(shipment=shipment("o-1"), address=ADDRESS, source_platform="tmall")
    async with httpx.AsyncClient() as http:
        async with serve_app(wms.create_app(Faults(0), SimState("wms", tmp_path))) as url:
            await http.put(f"{url}/admin/stock", json={"stock": [
                {"warehouse": "SH-01", "sku": "COKE-330-24", "quantity": 10}]})
            accepted = await WmsActivities(http, Settings(wms_url=url)).create_delivery_order(req)
        async with serve_app(wms.create_app(Faults(0), SimState("wms", tmp_path))) as url:
            reseeded = (await http.put(f"{url}/admin/stock", params={"replace": "false"}, json={"stock": [
                {"warehouse": "SH-01", "sku": "COKE-330-24", "quantity": 10}]})).json()
            again = await WmsActivities(http, Settings(wms_url=url)).create_delivery_order(req)
            held = (await http.get(f"{url}/admin/orders")).json()
    assert again == accepted and list(held["orders"]) == ["o-1-p1"]
    assert reseeded["kept"] == 1  # a WMS that kept its count is not overwritten by the ledger's
    assert held["stock"] == [{"warehouse": "SH-01", "sku": "COKE-330-24", "quantity": 8}]


async def test_a_restarted_store_still_refuses_a_waybill_it_was_already_sent(tmp_path: Path) -> None:
    form = {"method": "taobao.logistics.offline.send", "tid": "T1", "out_sid": "SF1", "company_code": "SF"}
    async with httpx.AsyncClient() as http:
        for expected in ("logistics_offline_send_response", "error_response"):
            store = marketplaces.create_app(Faults(0), SimState("marketplaces", tmp_path))
            async with serve_app(store) as url:
                signed = {**form, "sign": top.sign(form, Settings().taobao_secret)}
                answer = (await http.post(f"{url}/taobao/router/rest", data=signed)).json()
                assert expected in answer, answer
                received = (await http.get(f"{url}/admin/received")).json()["received"]
                assert [r["body"]["out_sid"] for r in received] == ["SF1"]
