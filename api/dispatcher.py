"""Start workflows from the inbox at the pace Temporal accepts them.

The API only writes the inbox, so a burst never waits on Temporal; this process drains it
in id order: new orders start `OrderWorkflow` (the workflow id is the business key, so a
row started twice is one workflow), channel cancellations go to the running workflow as
the same `cancel` Update an operator sends and are accepted or refused by its validator.
A crash between accept and start loses nothing: the row is still `pending` at restart.

Run: `python -m api.dispatcher` (`ordo up` starts one). Several may run against one
PostgreSQL database: each claims its batch with a lease (`FOR UPDATE SKIP LOCKED`), so no
row is started twice, and a change waits until its order's start has been dispatched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from config.logs import configure_logging
from config.settings import Settings, get_settings
from config.temporal import connect
from domain.access import SYSTEM
from domain.messages import ActionResult, AddressChange, OperatorNote
from domain.model import Order, workflow_id_for
from domain.records import InboxRecord
from services.audit import Audit
from services.orders import start_order
from services.privacy import Privacy
from store import inbox as inbox_store
from store.db import make_engine

log = structlog.get_logger()
BATCH = 200
CONCURRENCY = 64
IDLE_SECONDS = 0.1
UPDATE_TIMEOUT = timedelta(seconds=20)


class Dispatcher:
    def __init__(self, client: Client, db: AsyncEngine, name: str = "") -> None:
        self.client, self.db = client, db
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"  # whose lease a claimed row is
        self._sem = asyncio.Semaphore(CONCURRENCY)

    async def _start(self, row: InboxRecord) -> tuple[int, str, str]:
        async with self._sem:
            return row.id, "done", await start_order(self.client, Order.model_validate(row.canonical))

    async def _cancel(self, row: InboxRecord) -> tuple[int, str, str]:
        note = OperatorNote(
            reason=row.canonical.get("reason", "cancelled by the channel"),
            operator=f"channel:{row.channel}",
        )
        return await self._update(row, "cancel", note, "cancelled")

    async def _address(self, row: InboxRecord) -> tuple[int, str, str]:
        order = Order.model_validate(row.canonical)
        change = AddressChange(address=order.shipping_address, reason=f"updated on {row.channel}")
        return await self._update(row, "change_address", change, "address changed")

    async def _update(self, row: InboxRecord, name: str, arg: Any, done: str) -> tuple[int, str, str]:
        """The same Update an operator sends; its validator accepts or refuses the change."""
        handle = self.client.get_workflow_handle(workflow_id_for(row.order_id))
        async with self._sem:
            try:
                result = await handle.execute_update(
                    name, arg, result_type=ActionResult, rpc_timeout=UPDATE_TIMEOUT
                )
                return row.id, "done", f"{done}: {result.message}"
            except WorkflowUpdateFailedError as exc:
                reason = str(getattr(exc.cause, "message", exc))
                return row.id, "rejected", f"refused by the order: {reason}"
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return row.id, "rejected", "no such order in Temporal"
                raise

    async def _one(self, row: InboxRecord) -> tuple[int, str, str]:
        try:
            if row.kind == "order":
                return await self._start(row)
            if row.kind == "hold":
                note = OperatorNote(
                    reason=row.canonical.get("reason", ""), operator=f"channel:{row.channel}"
                )
                return await self._update(row, "hold", note, "held")
            return await (self._cancel(row) if row.kind == "cancel" else self._address(row))
        except Exception as exc:  # Temporal busy or down: stays pending, tried again
            log.warning("dispatch.retry", inbox_id=row.id, order_id=row.order_id, error=str(exc))
            return row.id, "pending", f"{type(exc).__name__}: {exc}"

    async def drain_once(self) -> int:
        """One batch: orders first, then changes (a cancellation after its order's start)."""
        rows = await inbox_store.claim(self.db, BATCH, self.name)
        if not rows:
            return 0
        orders = [r for r in rows if r.kind == "order"]
        changes = [r for r in rows if r.kind != "order"]
        results = list(await asyncio.gather(*(self._one(r) for r in orders)))
        results += await asyncio.gather(*(self._one(r) for r in changes))
        await inbox_store.settle(self.db, results)
        done = sum(1 for _, state, _ in results if state != "pending")
        if done:
            log.info("dispatch.batch", rows=len(rows), settled=done)
        return done if done else -len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = IDLE_SECONDS
        while not stop.is_set():
            try:
                settled = await self.drain_once()
            except Exception as exc:  # database unavailable: keep trying
                log.error("dispatch.error", error=str(exc))
                settled = -1
            if settled > 0:
                backoff = IDLE_SECONDS
                continue
            backoff = IDLE_SECONDS if settled == 0 else min(backoff * 2, 5.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)


async def keep_retention(stop: asyncio.Event, privacy: Privacy, days: float, every_minutes: float) -> None:
    """The retention schedule: personal data of orders closed more than `days` ago is erased,
    checked at start and then every `every_minutes` (each dispatcher does; a second erasure of
    the same order finds nothing left to erase)."""
    while not stop.is_set():
        try:
            done = await privacy.purge_expired(SYSTEM, days)
            if done.orders or done.raw_rows:
                log.info("retention.purged", orders=len(done.orders), raw_rows=done.raw_rows)
        except Exception as exc:  # the database is away: next time
            log.error("retention.error", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_minutes * 60)


async def main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    db = make_engine(settings.effective_database_url)
    client = await connect(settings)
    log.info("dispatch.started")
    privacy = Privacy(db, Audit(db, db, settings))
    retention = asyncio.create_task(keep_retention(stop, privacy, settings.retention_days,
                                                   settings.retention_check_minutes))
    try:
        await Dispatcher(client, db).run(stop)
        await retention
    finally:
        await db.dispose()


if __name__ == "__main__":
    settings = get_settings()
    configure_logging(settings.log_level, component="dispatcher")
    asyncio.run(main(settings))
