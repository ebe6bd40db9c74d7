"""Tell the originating channel that a parcel left, with its waybill, in the channel's format.

Retried like any remote call; both channels treat a repeat as done (Shopify answers 422
"already fulfilled" for a tracking number it has, Taobao `isv.logistics-offline-service-error`
B04 "已发货" for a trade already sent with that waybill), so a retry never sends twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from temporalio import activity

from activities.contracts import channels as contract
from channels.writeback import shopify_fulfillment, taobao_offline_send, target
from config.settings import Settings
from domain.messages import ShipmentNotice
from domain.wire import top


class ChannelActivities:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    @activity.defn(name=contract.CONFIRM_SHIPMENT.name)
    async def confirm_shipment(self, n: ShipmentNotice) -> str:
        """Returns what was done, for the workflow's history: `sent`, `already sent` or why not."""
        kind = target(n.channel)
        if kind == "shopify":
            return await self._shopify(n)
        if kind == "taobao":
            return await self._taobao(n)
        return f"no write-back for channel {n.channel}"

    async def _shopify(self, n: ShipmentNotice) -> str:
        base = f"{self.settings.channels_url}/shopify/admin/api/2024-01"
        headers = {"X-Shopify-Access-Token": self.settings.shopify_access_token}
        found = await self.http.get(f"{base}/orders/{n.external_id}/fulfillment_orders.json", headers=headers)
        found.raise_for_status()
        open_orders = [
            fo for fo in found.json()["fulfillment_orders"] if fo["status"] in ("open", "in_progress")
        ]
        body = shopify_fulfillment(n, open_orders)
        if body is None:
            return "already sent: no open fulfillment order line carries this parcel"
        resp = await self.http.post(f"{base}/fulfillments.json", headers=headers, json=body)
        if resp.status_code == 422 and "already" in resp.text:
            return "already sent"
        resp.raise_for_status()
        return f"sent: fulfillment {resp.json()['fulfillment']['id']}"

    async def _taobao(self, n: ShipmentNotice) -> str:
        params = {
            **taobao_offline_send(n),
            "app_key": self.settings.taobao_app_key,
            "v": "2.0",
            "format": "json",
            "sign_method": "md5",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        params["sign"] = top.sign(params, self.settings.taobao_secret)
        resp = await self.http.post(f"{self.settings.channels_url}/taobao/router/rest", data=params)
        resp.raise_for_status()
        body = resp.json()
        if "error_response" in body:
            err = body["error_response"]
            if "B04" in str(err.get("sub_code", "")):
                return "already sent"
            raise RuntimeError(
                f"taobao refused logistics.offline.send: {err.get('sub_msg') or err.get('msg')}"
            )
        return "sent" if body["logistics_offline_send_response"]["shipping"]["is_success"] else "refused"
