"""Carrier activities: book and cancel waybills through the carrier's own API
(`activities.carrier_clients`), idempotent by the shipment id."""

from __future__ import annotations

import httpx
from temporalio import activity

from activities.carrier_clients import clients
from activities.contracts import carriers as contract
from config.settings import Settings
from domain.messages import CancelWaybillRequest, Waybill, WaybillRequest
from store.vault import Vault, unseal_address


class CarrierActivities:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, vault: Vault | None = None) -> None:
        self.clients = clients(http, settings)
        self.vault = vault

    @activity.defn(name=contract.CREATE_WAYBILL.name)
    async def create_waybill(self, req: WaybillRequest) -> Waybill:
        """The label needs the receiver in full: read from the vault here, for this call only."""
        labelled = req.model_copy(update={"address": await unseal_address(self.vault, req.address)})
        return await self.clients[req.protocol].create(labelled)

    @activity.defn(name=contract.CANCEL_WAYBILL.name)
    async def cancel_waybill(self, req: CancelWaybillRequest) -> None:
        await self.clients[req.protocol].cancel(req.carrier, req.shipment_id)
