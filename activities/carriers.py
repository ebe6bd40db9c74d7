"""Carrier activities: book and cancel waybills through the carrier's own API
(`activities.carrier_clients`), idempotent by the shipment id."""

from __future__ import annotations

import httpx
from temporalio import activity

from activities.carrier_clients import clients
from activities.contracts import carriers as contract
from config.settings import Settings
from domain.messages import CancelWaybillRequest, Waybill, WaybillRequest


class CarrierActivities:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.clients = clients(http, settings)

    @activity.defn(name=contract.CREATE_WAYBILL.name)
    async def create_waybill(self, req: WaybillRequest) -> Waybill:
        return await self.clients[req.protocol].create(req)

    @activity.defn(name=contract.CANCEL_WAYBILL.name)
    async def cancel_waybill(self, req: CancelWaybillRequest) -> None:
        await self.clients[req.protocol].cancel(req.carrier, req.shipment_id)
