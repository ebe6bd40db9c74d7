"""The Ordo API as the demo uses it: the same HTTP calls a channel, an operator or a script
would make, with a short retry for the moments the stack is still busy starting."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from cli.credentials import bearer
from config.settings import Settings
from domain.model import Product

RETRIES = 50
PAUSE = 0.5


class DemoApiError(Exception):
    """The API refused what the demo asked, or kept failing."""


class OrdoApi:
    def __init__(self, settings: Settings, http: httpx.AsyncClient, tries: int = RETRIES) -> None:
        """`tries=1` for a caller that must not wait (the live table, which also restarts a
        crashed API)."""
        self.base, self.wms, self.http, self.tries = settings.api_url, settings.wms_url, http, tries
        self.headers = bearer(settings)

    async def _call(self, method: str, path: str, ok: tuple[int, ...] = (200, 202),
                    **kwargs: Any) -> httpx.Response:
        """A 5xx (the stack still starting, a worker restarting) is tried again; anything
        else outside `ok` is the API's answer and raised."""
        last = ""
        for _ in range(self.tries):
            try:
                r = await self.http.request(method, f"{self.base}{path}", headers=self.headers, **kwargs)
            except httpx.TransportError as exc:  # the API is restarting: `ordo up` brings it back
                last = f"{type(exc).__name__}: {exc}"
                await asyncio.sleep(PAUSE)
                continue
            if r.status_code in ok:
                return r
            if r.status_code < 500:
                raise DemoApiError(f"{method} {path}: {r.status_code} {r.text[:300]}")
            last = f"{r.status_code} {r.text[:300]}"
            await asyncio.sleep(PAUSE)
        raise DemoApiError(f"{method} {path} kept failing: {last}")

    async def products(self) -> list[Product]:
        body = (await self._call("GET", "/v1/catalog/products")).json()
        return [Product.model_validate(p) for p in body["products"]]

    async def submit(self, order: dict[str, Any]) -> str:
        return str((await self._call("POST", "/v1/orders", json=order)).json()["order_id"])

    async def statuses(self, order_ids: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = (await self._call("POST", "/v1/orders/statuses",
                                                 json={"order_ids": order_ids})).json()
        return body

    async def counts(self) -> dict[str, int]:
        """Every order Ordo holds, by status."""
        body = (await self._call("GET", "/v1/orders")).json()
        return dict(body["by_status"])

    async def order(self, order_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self._call("GET", f"/v1/orders/{order_id}")).json()
        return body

    async def paid(self, order_id: str, reason: str) -> int:
        r = await self._call("POST", f"/v1/orders/{order_id}/paid", ok=(200, 409), json={"reason": reason})
        return r.status_code

    async def cancel(self, order_id: str, reason: str) -> int:
        """200: cancelled; 409: refused with the reason (it has shipped, it is already closed)."""
        r = await self._call("POST", f"/v1/orders/{order_id}/cancel", ok=(200, 409),
                             json={"reason": reason, "operator": "customer"})
        return r.status_code

    async def transfer(self, **order: Any) -> dict[str, Any]:
        body: dict[str, Any] = (await self._call("POST", "/v1/inventory/transfers", json=order)).json()
        return body

    async def transfers(self) -> list[dict[str, Any]]:
        body = (await self._call("GET", "/v1/inventory/transfers")).json()
        return list(body["transfers"])

    async def reconcile(self, confirm_seconds: float, alert_units: int) -> dict[str, Any]:
        body: dict[str, Any] = (await self._call(
            "POST", "/v1/inventory/reconcile",
            json={"confirm_seconds": confirm_seconds, "alert_units": alert_units})).json()
        return body

    async def inventory(self, sku: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self._call("GET", "/v1/inventory", params={"sku": sku})).json()
        return body

    async def audit(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self._call("GET", "/v1/inventory/audit")).json()
        return body

    async def request_return(self, order_id: str, request: dict[str, Any]) -> httpx.Response:
        return await self._call("POST", f"/v1/orders/{order_id}/returns", ok=(200, 202, 409, 422),
                                json=request)

    async def return_state(self, rma: str) -> dict[str, Any]:
        state: dict[str, Any] = (await self._call("GET", f"/v1/returns/{rma}")).json().get("state") or {}
        return state
