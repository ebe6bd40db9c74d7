"""The Temporal client the services share, connected on first use so the API can start
before Temporal and recover after it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from config.temporal import connect
from services.errors import Unavailable

QUERY_TIMEOUT = timedelta(seconds=3)
UPDATE_TIMEOUT = timedelta(seconds=20)


class LazyTemporal:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """Unavailable (503) while Temporal cannot be reached; the next call tries again."""
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await connect(self.settings)
                except RuntimeError as exc:  # the SDK's "Failed client connect"
                    raise Unavailable(f"Temporal at {self.settings.temporal_address} is not answering "
                                      f"({exc}); retry shortly") from None
            return self._client


def timed_out(exc: RPCError) -> bool:
    """A client-side rpc_timeout surfaces as DEADLINE_EXCEEDED or CANCELLED, 'Timeout expired'."""
    return exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED) or \
        "timeout" in exc.message.lower()


def unreachable(exc: RPCError) -> bool:
    """Temporal itself is down (or restarting), as opposed to refusing the call."""
    return exc.status == RPCStatusCode.UNAVAILABLE
