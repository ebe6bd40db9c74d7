"""The simulators keep the idempotency promises of the systems they stand in for, over HTTP."""

from __future__ import annotations

from decimal import Decimal

import httpx

from activities.carriers import CarrierActivities
from activities.payments import PaymentActivities
from activities.wms import WmsActivities
from config.settings import Settings
from domain.messages import DeliveryOrderRequest, ParcelLine, PaymentRequest, Shipment, WaybillRequest
from simulators import carriers, payments, wms
from simulators.faults import Faults
from tests.factories import make_order
from tests.harness import serve_app

SHIPMENT = Shipment(shipment_id="o-1-p1", order_id="o-1", warehouse="SH-01",
                    lines=[ParcelLine(sku="COKE-330-24", quantity=2)], weight_g=16800, service="standard")
ADDRESS = make_order("x").shipping_address


async def test_authorise_and_capture_are_idempotent_even_when_answers_are_lost() -> None:
    faults = Faults(rate=0)
    async with serve_app(payments.create_app(faults, notify_url="")) as url, httpx.AsyncClient() as http:
        pay = PaymentActivities(http, Settings(payments_url=url))
        req = PaymentRequest(order_id="o-1", amount=Decimal("118.00"), currency="CNY", payer_id="p")
        auth = await pay.authorise(req)
        assert (await pay.authorise(req)).reference == auth.reference
        first = await pay.capture(auth)
        again = await pay.capture(auth)  # a retry after a lost answer
        assert again.reference == first.reference
        ledger = (await http.get(f"{url}/admin/ledger")).json()
        assert len(ledger["trades"]) == 1 and len(ledger["auths"]) == 1


async def test_wms_and_carrier_return_the_first_result_for_a_repeated_key() -> None:
    async with serve_app(wms.create_app(Faults(0))) as wms_url, \
            serve_app(carriers.create_app(Faults(0), push_url="", step_seconds=0)) as car_url, \
            httpx.AsyncClient() as http:
        settings = Settings(wms_url=wms_url, carriers_url=car_url)
        w = WmsActivities(http, settings)
        req = DeliveryOrderRequest(shipment=SHIPMENT, address=ADDRESS, source_platform="tmall")
        assert (await w.create_delivery_order(req)) == (await w.create_delivery_order(req))
        c = CarrierActivities(http, settings)
        wb = WaybillRequest(shipment=SHIPMENT, carrier="sf", address=ADDRESS)
        first, second = await c.create_waybill(wb), await c.create_waybill(wb)
        assert first == second and first.waybill_no.startswith("SF")
        orders = (await http.get(f"{wms_url}/admin/orders")).json()["orders"]
        assert list(orders) == ["o-1-p1"] and orders["o-1-p1"]["lines"][0]["planQty"] == "2"


async def test_a_wrong_signature_is_refused() -> None:
    async with serve_app(wms.create_app(Faults(0))) as url, httpx.AsyncClient() as http:
        w = WmsActivities(http, Settings(wms_url=url, qimen_secret="not-the-secret"))
        req = DeliveryOrderRequest(shipment=SHIPMENT, address=ADDRESS, source_platform="jd")
        try:
            await w.create_delivery_order(req)
        except Exception as exc:
            assert "invalid signature" in str(exc)
        else:
            raise AssertionError("a bad Qimen signature was accepted")
