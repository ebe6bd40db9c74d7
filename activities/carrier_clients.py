"""One client per carrier API, all behind `CarrierClient`: book a waybill, cancel it.

Each speaks its carrier's real request shape (`shared/notes/logistics.md`) and turns the
answer into a `Waybill` or a business failure: a refused address or product is
`carrier_rejected` (try another carrier); anything else (5xx, timeouts, a garbled answer)
raises an ordinary error that Temporal retries. Every booking carries the shipment id as the
carrier's idempotency key, so a retry after a lost answer returns the first waybill.
Rate quotes come from the contract rate cards (`domain.rating`), not from these APIs.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from activities.errors import business_failure
from config.settings import Settings
from domain.exceptions import ExceptionKind
from domain.messages import Waybill, WaybillRequest
from domain.model import Address
from domain.wire import dhl, jdl, sf, zto

REFUSED = ExceptionKind.CARRIER_REJECTED  # how this system says no: routed by the exception rules

def parties(req: WaybillRequest, settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """(sender, receiver): the warehouse sends a parcel, the customer sends a return."""
    warehouse = {
        "name": settings.warehouse_contact_name,
        "phone": settings.warehouse_contact_phone,
        "province": req.origin_province,
        "city": "",
        "district": "",
        "street": f"warehouse {req.shipment.warehouse}",
    }
    customer = _plain(req.address)
    return (customer, warehouse) if req.reverse else (warehouse, customer)


def _plain(a: Address) -> dict[str, str]:
    return {
        "name": a.name,
        "phone": a.phone,
        "province": a.province,
        "city": a.city,
        "district": a.district,
        "street": a.street,
    }


class CarrierClient(Protocol):
    async def create(self, req: WaybillRequest) -> Waybill: ...

    async def cancel(self, carrier: str, shipment_id: str) -> None: ...


class _Http:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http, self.settings = http, settings


class SfClient(_Http):
    """SF open platform: form envelope with msgData and msgDigest."""

    EXPRESS_TYPE = {"standard": 2, "express": 1, "cold_chain": 201, "freight": 154}

    async def _call(self, carrier: str, service_code: str, data: dict[str, Any]) -> dict[str, Any]:
        msg = json.dumps(data, ensure_ascii=False)
        ts = str(int(datetime.now(UTC).timestamp() * 1000))
        resp = await self.http.post(
            f"{self.settings.carriers_url}/{carrier}/std/service",
            data={
                "partnerID": self.settings.sf_partner_id,
                "requestID": str(uuid.uuid4()),
                "serviceCode": service_code,
                "timestamp": ts,
                "msgData": msg,
                "msgDigest": sf.digest(msg, ts, self.settings.sf_checkword),
            },
        )
        resp.raise_for_status()
        body = resp.json()
        if body.get("apiResultCode") != "A1000":
            raise RuntimeError(
                f"{carrier} gateway error {body.get('apiResultCode')}: {body.get('apiErrorMsg')}"
            )
        result: dict[str, Any] = json.loads(body["apiResultData"])
        return result

    async def create(self, req: WaybillRequest) -> Waybill:
        s = req.shipment
        sender, receiver = parties(req, self.settings)
        result = await self._call(
            req.carrier,
            "EXP_RECE_CREATE_ORDER",
            {
                "orderId": req.booking_id,
                "language": "zh-CN",
                "monthlyCard": self.settings.sf_monthly_card,
                "payMethod": 1,
                "expressTypeId": self.EXPRESS_TYPE.get(req.level, 2),
                "parcelQty": 1,
                "totalWeight": round(s.weight_g / 1000, 2),
                "totalVolume": s.volume_cm3,
                "cargoDetails": [{"name": ln.sku, "count": ln.quantity, "unit": "件"} for ln in s.lines],
                "contactInfoList": [
                    {
                        "contactType": t,
                        "contact": p["name"],
                        "mobile": p["phone"],
                        "province": p["province"],
                        "city": p["city"],
                        "county": p["district"],
                        "address": p["street"],
                    }
                    for t, p in ((1, sender), (2, receiver))
                ],
                **(
                    {"temperatureRange": 3 if s.temperature == "frozen" else 1}
                    if s.service == "cold_chain"
                    else {}
                ),
            },
        )
        data = result.get("msgData", {})
        if not result.get("success"):
            raise business_failure(REFUSED, f"{req.carrier}: {result.get('errorMsg')}")
        if data.get("filterResult") == 3:
            raise business_failure(
                REFUSED, f"{req.carrier} cannot deliver to this address: {data.get('remark', '')}"
            )
        numbers = [w["waybillNo"] for w in data.get("waybillNoInfoList", []) if w.get("waybillType") == 1]
        if not numbers:
            raise RuntimeError(f"{req.carrier} answered without a waybill number")
        return Waybill(carrier=req.carrier, waybill_no=numbers[0])

    async def cancel(self, carrier: str, shipment_id: str) -> None:
        result = await self._call(carrier, "EXP_RECE_UPDATE_ORDER", {"orderId": shipment_id, "dealType": 2})
        if not result.get("success") and result.get("errorCode") != "8018":
            raise business_failure(REFUSED, f"{carrier}: {result.get('errorMsg')}")


class ZtoClient(_Http):
    async def _call(self, carrier: str, method: str, data: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(data, ensure_ascii=False)
        resp = await self.http.post(
            f"{self.settings.carriers_url}/{carrier}/{method}",
            content=body.encode(),
            headers={
                "Content-Type": "application/json",
                "x-appKey": self.settings.zto_app_key,
                "x-dataDigest": zto.digest(body, self.settings.zto_secret),
            },
        )
        resp.raise_for_status()
        answer: dict[str, Any] = resp.json()
        if answer.get("statusCode") in ("S01", "S02"):  # bad digest / app key: ours to fix, not the parcel's
            raise RuntimeError(f"{carrier} refused the request: {answer.get('message')}")
        return answer

    async def create(self, req: WaybillRequest) -> Waybill:
        sender, receiver = parties(req, self.settings)
        answer = await self._call(
            req.carrier,
            "zto.open.createOrder",
            {
                "partnerType": "2",
                "orderType": "1",
                "partnerOrderCode": req.booking_id,
                "accountInfo": {"accountId": self.settings.zto_account_id, "type": 1},
                "senderInfo": {
                    "senderName": sender["name"],
                    "senderPhone": sender["phone"],
                    "senderProvince": sender["province"],
                    "senderCity": sender["city"],
                    "senderDistrict": sender["district"],
                    "senderAddress": sender["street"],
                },
                "receiveInfo": {
                    "receiverName": receiver["name"],
                    "receiverMobile": receiver["phone"],
                    "receiverProvince": receiver["province"],
                    "receiverCity": receiver["city"],
                    "receiverDistrict": receiver["district"],
                    "receiverAddress": receiver["street"],
                },
                "orderItems": [{"name": ln.sku, "quantity": ln.quantity} for ln in req.shipment.lines],
                "summaryInfo": {"totalWeight": round(req.shipment.weight_g / 1000, 2)},
            },
        )
        if not answer.get("status"):
            raise business_failure(REFUSED, f"{req.carrier}: {answer.get('message')}")
        return Waybill(carrier=req.carrier, waybill_no=str(answer["result"]["billCode"]))

    async def cancel(self, carrier: str, shipment_id: str) -> None:
        answer = await self._call(
            carrier, "zto.open.cancelPreOrder", {"cancelType": "1", "partnerOrderCode": shipment_id}
        )
        if not answer.get("status") and answer.get("statusCode") != "E404":
            raise business_failure(REFUSED, f"{carrier}: {answer.get('message')}")


class JdlClient(_Http):
    async def _call(self, carrier: str, method: str, data: dict[str, Any]) -> dict[str, Any]:
        params = {
            "method": method,
            "app_key": self.settings.jd_app_key,
            "v": "2.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "360buy_param_json": json.dumps(data, ensure_ascii=False),
        }
        params["sign"] = jdl.sign(params, self.settings.jd_secret)
        resp = await self.http.post(f"{self.settings.carriers_url}/{carrier}/routerjson", data=params)
        resp.raise_for_status()
        body = resp.json()
        if "error_response" in body:
            raise RuntimeError(f"{carrier} refused the request: {body['error_response'].get('zh_desc')}")
        answer: dict[str, Any] = body[jdl.response_key(method)]
        return answer

    async def create(self, req: WaybillRequest) -> Waybill:
        s = req.shipment
        sender, receiver = parties(req, self.settings)
        answer = await self._call(
            req.carrier,
            jdl.RECEIVE,
            {
                "salePlat": "0030001",
                "customerCode": self.settings.jdl_customer_code,
                "orderId": req.booking_id,
                "senderName": sender["name"],
                "senderMobile": sender["phone"],
                "senderAddress": f"{sender['province']}{sender['city']}{sender['street']}",
                "receiveName": receiver["name"],
                "receiveMobile": receiver["phone"],
                "province": receiver["province"],
                "city": receiver["city"],
                "county": receiver["district"],
                "receiveAddress": receiver["street"],
                "packageCount": 1,
                "weight": round(s.weight_g / 1000, 2),
                "vloumn": s.volume_cm3,
                "goodsType": jdl.GOODS_TYPE.get(str(s.temperature), 1),
                "promiseTimeType": jdl.PROMISE.get(req.level, 1),
            },
        )
        result = answer.get("receiveorderinfo_result", {})
        if result.get("resultCode") != jdl.OK:
            raise business_failure(REFUSED, f"{req.carrier}: {result.get('resultMessage')}")
        return Waybill(carrier=req.carrier, waybill_no=str(result["deliveryId"]))

    async def cancel(self, carrier: str, shipment_id: str) -> None:
        answer = await self._call(
            carrier,
            jdl.INTERCEPT,
            {"vendorCode": self.settings.jdl_customer_code, "orderId": shipment_id,
             "interceptReason": "order cancelled"},
        )
        state = answer.get("resultInfo", {}).get("stateCode")
        if state not in (jdl.OK, 404):
            raise business_failure(REFUSED, f"{carrier}: {answer.get('resultInfo')}")


class DhlClient(_Http):
    async def create(self, req: WaybillRequest) -> Waybill:
        s = req.shipment
        sender, receiver = parties(req, self.settings)

        def party(p: dict[str, str]) -> dict[str, Any]:
            return {
                "postalAddress": {
                    "countryCode": "CN",
                    "provinceName": p["province"],
                    "cityName": p["city"] or p["province"],
                    "addressLine1": p["street"],
                    "countyName": p["district"],
                },
                "contactInformation": {"fullName": p["name"], "phone": p["phone"]},
            }

        side = round((max(s.volume_cm3, 1000)) ** (1 / 3), 1)
        resp = await self.http.post(
            f"{self.settings.carriers_url}/{req.carrier}/mydhlapi/shipments",
            auth=(self.settings.dhl_user, self.settings.dhl_password),
            json={
                "plannedShippingDateAndTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S GMT+00:00"),
                "pickup": {"isRequested": False},
                "productCode": dhl.PRODUCT.get(req.level, "N"),
                "customerReferences": [{"value": req.booking_id, "typeCode": "CU"}],
                "customerDetails": {"shipperDetails": party(sender), "receiverDetails": party(receiver)},
                "content": {
                    "packages": [
                        {
                            "weight": max(round(s.weight_g / 1000, 3), 0.001),
                            "dimensions": {"length": side, "width": side, "height": side},
                        }
                    ],
                    "isCustomsDeclarable": False,
                    "unitOfMeasurement": "metric",
                    "description": ", ".join(ln.sku for ln in s.lines)[:70],
                },
            },
        )
        if resp.status_code in (400, 422):
            problem = resp.json()
            raise business_failure(REFUSED, f"{req.carrier}: {problem.get('detail')}")
        resp.raise_for_status()
        return Waybill(carrier=req.carrier, waybill_no=str(resp.json()["shipmentTrackingNumber"]))

    async def cancel(self, carrier: str, shipment_id: str) -> None:
        """MyDHL has no cancel: an unused label is not billed. Nothing to call."""


def clients(http: httpx.AsyncClient, settings: Settings) -> dict[str, CarrierClient]:
    return {
        "sf": SfClient(http, settings),
        "zto": ZtoClient(http, settings),
        "jdl": JdlClient(http, settings),
        "dhl": DhlClient(http, settings),
    }
