"""The one HTTP client a simulator sends its pushes and notifications with.

A client per push built a TLS context each time: about 29 ms of CPU, which the order bench
counted on every order (a carrier's journey, a payment notification, a WMS report). One
client, made on first use inside the simulator's event loop and closed with the app,
costs that once.
"""

from __future__ import annotations

import httpx


class Outbound:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
