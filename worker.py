"""Run Ordo's workers: `python worker.py --queue orders|wms|carriers|payments|channels|all`.

One process per task queue is the deployment unit: the orders queue runs the workflows
and the in-process steps (rules, stock, records) as local activities; wms, carriers and
payments each run the activities that talk to that outside system, so a slow carrier API
can be scaled or throttled without touching the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.carriers import CarrierActivities
from activities.channels import ChannelActivities
from activities.inventory import InventoryActivities
from activities.payments import PaymentActivities
from activities.returns import ReturnActivities
from activities.rule_log import log_changes
from activities.store import StoreActivities
from activities.wms import WmsActivities
from config import queues
from config.keys import audit_key
from config.logs import configure_logging
from config.settings import Settings, get_settings
from config.temporal import connect, metrics_port, worker_runtime, workflow_runner
from rules.engine import RuleEngine
from store.db import make_engine
from store.vault import Vault
from workflows.inventory import RebalanceWorkflow, ReconcileWorkflow, TransferWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow
from workflows.shipment import ShipmentWorkflow

log = structlog.get_logger()
SHUTDOWN_GRACE_SECONDS = 10.0


@dataclass
class Resources:
    db: AsyncEngine
    http: httpx.AsyncClient
    rules: RuleEngine
    vault: Vault  # the WMS and carrier activities read label addresses from it


@contextlib.asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    db = make_engine(settings.effective_database_url)
    http = httpx.AsyncClient(timeout=settings.http_timeout_seconds)
    rules = RuleEngine(settings.rules_dir, reload_interval=settings.rules_reload_seconds)
    try:
        await _log_rules_in_force(db, rules, settings)
        yield Resources(db=db, http=http, rules=rules, vault=Vault(db, settings.var_dir))
    finally:
        rules.close()
        await http.aclose()
        await db.dispose()


async def _log_rules_in_force(db: AsyncEngine, rules: RuleEngine, settings: Settings) -> None:
    """The versions this worker starts with go to the rule-change log (if they are new)."""
    changes = rules.take_changes()
    try:
        await log_changes(db, changes, audit_key(settings.var_dir, settings.audit_key))
    except Exception as exc:  # the first decision writes them instead
        rules.requeue(changes)
        log.warning("rules.log_deferred", error=str(exc))


def activities_for(name: str, res: Resources, settings: Settings) -> list[Callable[..., Any]]:
    """The implementations registered on queue `name`; each answers one contract of
    `activities.contracts` (tests/unit/test_activity_contracts.py holds them to it)."""
    if name == queues.ORDERS:
        store = StoreActivities(res.db, res.rules, settings)
        inv = InventoryActivities(res.db, res.rules)
        ret = ReturnActivities(res.db)
        return [store.validate_order, store.decide, store.reserve_stock, store.release_stock,
                store.consume_stock, store.record_status, store.record_statuses, store.record_shipment,
                store.record_address,
                store.quote_carriers, store.record_booking,
                inv.warehouse_codes, inv.stock_differences, inv.correct_stock,
                inv.alert, inv.dispatch_transfer, inv.cancel_transfer, inv.receive_transfer,
                inv.backordered_orders, inv.plan_rebalance, ret.record_return, ret.book_returned_units]
    if name == queues.WMS:
        wms = WmsActivities(res.http, settings, res.vault)
        return [wms.create_delivery_order, wms.cancel_delivery_order, wms.transfer, wms.snapshot,
                wms.create_return_order]
    if name == queues.CARRIERS:
        car = CarrierActivities(res.http, settings, res.vault)
        return [car.create_waybill, car.cancel_waybill]
    if name == queues.CHANNELS:
        return [ChannelActivities(res.http, settings).confirm_shipment]
    if name == queues.PAYMENTS:
        pay = PaymentActivities(res.http, settings)
        return [pay.authorise, pay.capture, pay.void, pay.refund]
    raise SystemExit(f"unknown queue '{name}': use one of {', '.join(queues.ALL)} or all")


WORKFLOWS = {queues.ORDERS: [OrderWorkflow, ShipmentWorkflow, TransferWorkflow, ReconcileWorkflow,
                             RebalanceWorkflow, ReturnWorkflow]}


def build_workers(client: Client, names: Sequence[str], res: Resources, settings: Settings) -> list[Worker]:
    return [
        Worker(client, task_queue=name, workflows=WORKFLOWS.get(name, []),
               activities=activities_for(name, res, settings),
               workflow_runner=workflow_runner(settings),
               max_concurrent_activities=50 if name == queues.ORDERS else None)
        for name in names
    ]


async def serve(names: Sequence[str], settings: Settings) -> None:
    configure_logging(settings.log_level, component=f"worker:{','.join(names)}")
    try:
        client = await connect(settings, worker_runtime(metrics_port(settings, list(names))))
    except Exception as exc:
        raise SystemExit(
            f"cannot reach Temporal at {settings.temporal_address}: {exc}. Start it with "
            "`ordo up` or point ORDO_TEMPORAL_ADDRESS at your cluster.") from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_resources(settings) as res:
        workers = build_workers(client, names, res, settings)
        async with contextlib.AsyncExitStack() as stack:
            for w in workers:
                await stack.enter_async_context(w)
            log.info("worker.started", queues=list(names))
            await stop.wait()
            log.info("worker.stopping", queues=list(names))
            # A graceful shutdown talks to Temporal; if Temporal is gone too it would wait
            # forever, so the process ends itself after a grace period.
            watchdog = threading.Timer(SHUTDOWN_GRACE_SECONDS, os._exit, (0,))
            watchdog.daemon = True
            watchdog.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", required=True, choices=[*queues.ALL, "all"])
    args = parser.parse_args()
    names = list(queues.ALL) if args.queue == "all" else [args.queue]
    asyncio.run(serve(names, get_settings()))


if __name__ == "__main__":
    main()
