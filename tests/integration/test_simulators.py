"""The simulators keep the idempotency promises of the systems they stand in for, over HTTP."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI

from activities.carriers import CarrierActivities
from activities.payments import PaymentActivities
from activities.wms import WmsActivities
from config.settings import Settings
from domain.messages import DeliveryOrderRequest, ParcelLine, PaymentRequest, Shipment, WaybillRequest
from domain.stock_messages import SnapshotRequest, TransferRequest
from simulators import carriers, payments, wms
from simulators.faults import Faults
from tests.factories import make_order
from tests.harness import serve_app, wait_until

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


async def test_the_wms_keeps_stock_through_delivery_orders_transfers_and_snapshots() -> None:
    """Qimen shapes end to end against the simulator: a delivery order takes stock out of
    the sellable count and its cancellation puts it back; a transfer (stockout DBCK, entry
    order DBRK, repeated: still one) leaves the source at once and reaches the destination
    when it arrives; `inventory.query` answers per warehouse, sellable (ZP) and defective (CC)
    units apart."""
    async with serve_app(wms.create_app(Faults(0))) as url, httpx.AsyncClient() as http:
        w = WmsActivities(http, Settings(wms_url=url))
        await http.put(f"{url}/admin/stock", json={"stock": [
            {"warehouse": "SH-01", "sku": "COKE-330-24", "quantity": 10, "defective": 2},
            {"warehouse": "GZ-01", "sku": "COKE-330-24", "quantity": 1}]})
        held = (await http.get(f"{url}/admin/orders")).json()["defective"]
        assert held == [{"warehouse": "SH-01", "sku": "COKE-330-24", "quantity": 2}]
        snap = await w.snapshot(SnapshotRequest(warehouses=["SH-01", "GZ-01"]))
        assert [(i.warehouse, i.quantity) for i in snap.items if i.inventory_type == "CC"] == [("SH-01", 2)]

        async def counts() -> dict[str, int]:
            snap = await w.snapshot(SnapshotRequest(warehouses=["SH-01", "GZ-01"]))
            sellable = [i for i in snap.items if i.sku == "COKE-330-24" and i.inventory_type == "ZP"]
            return {i.warehouse: i.quantity for i in sellable}

        ref = await w.create_delivery_order(
            DeliveryOrderRequest(shipment=SHIPMENT, address=ADDRESS, source_platform="tmall"))
        assert await counts() == {"SH-01": 8, "GZ-01": 1}
        await w.cancel_delivery_order(ref)
        assert await counts() == {"SH-01": 10, "GZ-01": 1}
        move = TransferRequest(transfer_id="TR-S1", sku="COKE-330-24", from_warehouse="SH-01",
                               to_warehouse="GZ-01", quantity=4)
        await w.transfer(move)
        await w.transfer(move)  # a retried activity
        assert await counts() == {"SH-01": 6, "GZ-01": 1}
        only_gz = await w.snapshot(SnapshotRequest(warehouses=["GZ-01"]))
        assert {i.warehouse for i in only_gz.items} == {"GZ-01"}
        arrived = (await http.post(f"{url}/admin/transfers/TR-S1/arrive", params={"received": 3})).json()
        assert arrived["transfer"] == "TR-S1"  # Ordo is not running here: its answer is an error
        assert await counts() == {"SH-01": 6, "GZ-01": 4}  # one unit lost in transit


async def test_faults_set_at_run_time_answer_late_or_after_the_caller_gave_up_with_the_work_done() -> None:
    """`PUT /admin/faults`: a held answer comes after the caller's timeout although the
    authorisation was made (a retry must find it, not make a second); a slow one comes late."""
    async with serve_app(payments.create_app(Faults(0, seed=1), notify_url="")) as url, \
            httpx.AsyncClient() as http:
        bad = await http.put(f"{url}/admin/faults", json={"rate": 2})
        assert bad.status_code == 422
        held = await http.put(f"{url}/admin/faults", json={"hang_rate": 1, "hang_seconds": 1.0})
        assert held.json()["hang_rate"] == 1
        req = PaymentRequest(order_id="o-9", amount=Decimal("59.00"), currency="CNY", payer_id="p")
        async with httpx.AsyncClient(timeout=0.3) as short:
            try:
                await PaymentActivities(short, Settings(payments_url=url)).authorise(req)
                raise AssertionError("the answer should have come too late")
            except httpx.TimeoutException:
                pass
        ledger = (await http.get(f"{url}/admin/ledger")).json()
        assert [a["out_order_no"] for a in ledger["auths"].values()] == ["o-9"]  # done all the same
        await http.put(f"{url}/admin/faults", json={"slow_rate": 1})
        patient = PaymentActivities(http, Settings(payments_url=url))
        again = await patient.authorise(req)  # the retry finds the first authorisation
        faults = (await http.get(f"{url}/admin/faults")).json()
        assert again.reference == ledger["auths"]["o-9-auth"]["auth_no"] and faults["injected"] == 2
        assert len((await http.get(f"{url}/admin/ledger")).json()["auths"]) == 1


async def test_a_paused_carrier_collects_nothing_until_tracking_resumes() -> None:
    """`PUT /admin/tracking {"paused": true}` keeps booked parcels at the depot (the benchmark
    weighs the workers' memory so); resumed, their journeys push tracking as before."""
    pushed: list[str] = []
    receiver = FastAPI()

    @receiver.post("/{carrier}/events")
    async def event(carrier: str) -> dict[str, object]:
        pushed.append(carrier)
        return {"return_code": "0000", "result": True}

    async with serve_app(receiver) as push_url, \
            serve_app(carriers.create_app(Faults(0), push_url=push_url, step_seconds=0)) as car_url, \
            httpx.AsyncClient() as http:
        paused = await http.put(f"{car_url}/admin/tracking", json={"paused": True})
        assert paused.json() == {"paused": True}
        c = CarrierActivities(http, Settings(carriers_url=car_url))
        await c.create_waybill(WaybillRequest(shipment=SHIPMENT, carrier="sf", address=ADDRESS))
        [booking] = (await http.get(f"{car_url}/admin/waybills")).json()["waybills"].values()
        assert booking["route"] == [] and pushed == []
        resumed = await http.put(f"{car_url}/admin/tracking", json={"paused": False})
        assert resumed.json() == {"paused": False}

        async def journey_moved() -> bool:
            return len(pushed) >= 2

        await wait_until(journey_moved, "tracking pushes after the pause", within=20)
    assert set(pushed) == {"sf"}
