"""WMS activities in Qimen: delivery orders and their cancellation, transfers (stockout DBCK at
the source, entry order DBRK at the destination) and stock snapshots (`inventory.query`).
Every create is idempotent by its order code, so Temporal's retries never duplicate one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio import activity

from activities.contracts import wms as contract
from activities.errors import business_failure
from config.settings import Settings
from domain.exceptions import ExceptionKind
from domain.messages import DeliveryOrderRef, DeliveryOrderRequest
from domain.returns import ReturnOrderRequest
from domain.stock_messages import SnapshotItem, SnapshotRequest, StockSnapshot, TransferRequest
from domain.wire import qimen
from store.vault import Vault, unseal_address

REFUSED = ExceptionKind.WMS_REJECTED  # how this system says no: routed by the exception rules

PLATFORM = {"taobao": "TB", "tmall": "TM", "jd": "JD"}


class WmsActivities:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, vault: Vault | None = None) -> None:
        """`vault`: the receiver's and a returning customer's name, phone and street are read
        from it here, just before they go on the WMS's order, and never kept."""
        self.http = http
        self.settings = settings
        self.vault = vault

    async def _call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = qimen.to_xml("request", payload)
        params = {"method": method, "app_key": self.settings.qimen_app_key, "v": "2.0",
                  "format": "xml", "sign_method": "md5", "customerId": "ordo",
                  "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")}
        params["sign"] = qimen.sign(params, body, self.settings.qimen_secret)
        resp = await self.http.post(f"{self.settings.wms_url}/router/qimen/service",
                                    params=params, content=body.encode(),
                                    headers={"Content-Type": "application/xml"})
        resp.raise_for_status()  # 5xx: Temporal retries
        return qimen.from_xml(resp.text)

    @activity.defn(name=contract.CREATE_DELIVERY_ORDER.name)
    async def create_delivery_order(self, req: DeliveryOrderRequest) -> DeliveryOrderRef:
        s, a = req.shipment, await unseal_address(self.vault, req.address)
        reply = await self._call("deliveryorder.create", {
            "deliveryOrder": {
                "deliveryOrderCode": s.shipment_id, "orderType": "JYCK",
                "warehouseCode": s.warehouse,
                "sourcePlatformCode": PLATFORM.get(req.source_platform, "OTHER"),
                "receiverInfo": {"name": a.name, "mobile": a.phone, "province": a.province,
                                 "city": a.city, "area": a.district, "detailAddress": a.street},
                "deliveryRequirements": {
                    "deliveryType": "LLPS" if s.service == "cold_chain" else "PTPS"},
            },
            "orderLines": [{"orderLineNo": i + 1, "itemCode": ln.sku, "planQty": ln.quantity,
                            "inventoryType": "ZP"} for i, ln in enumerate(s.lines)],
        })
        if reply.get("flag") != "success":
            raise business_failure(REFUSED, f"WMS refused {s.shipment_id}: {reply.get('message')}")
        return DeliveryOrderRef(delivery_order_code=s.shipment_id,
                                wms_order_id=str(reply.get("deliveryOrderId", "")))

    @activity.defn(name=contract.CANCEL_DELIVERY_ORDER.name)
    async def cancel_delivery_order(self, ref: DeliveryOrderRef) -> None:
        reply = await self._call("order.cancel", {"orderCode": ref.delivery_order_code,
                                                  "orderType": "JYCK", "cancelReason": "order cancelled"})
        if reply.get("flag") != "success":
            raise business_failure(REFUSED, f"WMS could not cancel: {reply.get('message')}")

    @activity.defn(name=contract.TRANSFER.name)
    async def transfer(self, req: TransferRequest) -> None:
        lines = [{"orderLineNo": 1, "itemCode": req.sku, "planQty": req.quantity, "inventoryType": "ZP"}]
        for method, header, order in (
            ("stockout.create", "deliveryOrder", {"deliveryOrderCode": req.transfer_id,
                                                   "orderType": "DBCK", "warehouseCode": req.from_warehouse,
                                                   "remark": req.reason}),
            ("entryorder.create", "entryOrder", {"entryOrderCode": req.transfer_id, "orderType": "DBRK",
                                                 "warehouseCode": req.to_warehouse,
                                                 "supplierCode": req.from_warehouse}),
        ):
            reply = await self._call(method, {header: order, "orderLines": lines})
            if reply.get("flag") != "success":
                raise business_failure(REFUSED,
                                       f"WMS refused the transfer ({method}): {reply.get('message')}")

    @activity.defn(name=contract.SNAPSHOT.name)
    async def snapshot(self, req: SnapshotRequest) -> StockSnapshot:
        reply = await self._call("inventory.query", {
            "criteriaList": [{"warehouseCode": w, "inventoryType": kind}
                             for w in req.warehouses for kind in ("ZP", "CC")]})
        if reply.get("flag") != "success":
            raise RuntimeError(f"WMS inventory.query failed: {reply.get('message')}")  # retried
        items = reply.get("items") or []
        items = items if isinstance(items, list) else [items]
        return StockSnapshot(items=[
            SnapshotItem(warehouse=str(i["warehouseCode"]), sku=str(i["itemCode"]),
                         quantity=int(str(i["quantity"])), inventory_type=str(i.get("inventoryType") or "ZP"))
            for i in items if isinstance(i, dict) and str(i.get("inventoryType") or "ZP") in ("ZP", "CC")])

    @activity.defn(name=contract.CREATE_RETURN_ORDER.name)
    async def create_return_order(self, req: ReturnOrderRequest) -> None:
        """Qimen `returnorder.create` (THRK return, HHRK exchange), idempotent by its code;
        the customer's stated condition travels in each line's remark for the inspector."""
        a = await unseal_address(self.vault, req.sender)
        reply = await self._call("returnorder.create", {
            "returnOrder": {
                "returnOrderCode": req.rma, "warehouseCode": req.warehouse,
                "orderType": "HHRK" if req.exchange else "THRK",
                "logisticsCode": req.carrier.upper(), "expressCode": req.waybill_no,
                "senderInfo": {"name": a.name, "mobile": a.phone, "province": a.province, "city": a.city,
                               "area": a.district, "detailAddress": a.street}},
            "orderLines": [{"orderLineNo": i + 1, "itemCode": ln.sku, "planQty": ln.quantity,
                            "inventoryType": "ZP", "remark": ln.condition} for i, ln in enumerate(req.lines)],
        })
        if reply.get("flag") != "success":
            raise business_failure(REFUSED, f"WMS refused return {req.rma}: {reply.get('message')}")
