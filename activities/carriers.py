"""Carrier activities: SF-style create-order (waybill) and cancel, idempotent by orderId."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio import activity

from activities.errors import CARRIER_REJECTED, business_failure
from config.settings import Settings
from domain.messages import CancelWaybillRequest, Waybill, WaybillRequest
from domain.wire import sf

EXPRESS_TYPE = {"standard": 2, "cold_chain": 201, "freight": 154, "hazmat": 2}


class CarrierActivities:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def _call(self, carrier: str, service_code: str, data: dict[str, Any]) -> dict[str, Any]:
        msg = json.dumps(data, ensure_ascii=False)
        ts = str(int(datetime.now(UTC).timestamp() * 1000))
        resp = await self.http.post(
            f"{self.settings.carriers_url}/{carrier}/std/service",
            data={"partnerID": self.settings.sf_partner_id, "requestID": str(uuid.uuid4()),
                  "serviceCode": service_code, "timestamp": ts, "msgData": msg,
                  "msgDigest": sf.digest(msg, ts, self.settings.sf_checkword)},
        )
        resp.raise_for_status()
        body = resp.json()
        if body.get("apiResultCode") != "A1000":
            raise RuntimeError(f"{carrier} gateway error {body.get('apiResultCode')}: "
                               f"{body.get('apiErrorMsg')}")
        result: dict[str, Any] = json.loads(body["apiResultData"])
        return result

    @activity.defn(name="carrier_create_waybill")
    async def create_waybill(self, req: WaybillRequest) -> Waybill:
        s, a = req.shipment, req.address
        result = await self._call(req.carrier, "EXP_RECE_CREATE_ORDER", {
            "orderId": s.shipment_id, "language": "zh-CN", "monthlyCard": "7551234567",
            "payMethod": 1, "expressTypeId": EXPRESS_TYPE.get(s.service, 2), "parcelQty": 1,
            "totalWeight": round(s.weight_g / 1000, 2),
            "cargoDetails": [{"name": ln.sku, "count": ln.quantity, "unit": "件"} for ln in s.lines],
            "contactInfoList": [
                {"contactType": 1, "contact": "Ordo warehouse", "mobile": "4000000000",
                 "province": "", "city": "", "county": "", "address": s.warehouse},
                {"contactType": 2, "contact": a.name, "mobile": a.phone, "province": a.province,
                 "city": a.city, "county": a.district, "address": a.street},
            ],
            **({"temperatureRange": 3 if s.temperature == "frozen" else 1}
               if s.service == "cold_chain" else {}),
        })
        data = result.get("msgData", {})
        if not result.get("success"):
            raise business_failure(CARRIER_REJECTED, f"{req.carrier}: {result.get('errorMsg')}")
        if data.get("filterResult") == 3:
            raise business_failure(CARRIER_REJECTED,
                                   f"{req.carrier} cannot deliver to this address: {data.get('remark', '')}")
        numbers = [w["waybillNo"] for w in data.get("waybillNoInfoList", []) if w.get("waybillType") == 1]
        if not numbers:
            raise RuntimeError(f"{req.carrier} answered without a waybill number")
        return Waybill(carrier=req.carrier, waybill_no=numbers[0])

    @activity.defn(name="carrier_cancel_waybill")
    async def cancel_waybill(self, req: CancelWaybillRequest) -> None:
        result = await self._call(req.carrier, "EXP_RECE_UPDATE_ORDER",
                                  {"orderId": req.shipment_id, "dealType": 2})
        if not result.get("success") and result.get("errorCode") != "8018":
            raise business_failure(CARRIER_REJECTED, f"{req.carrier}: {result.get('errorMsg')}")
