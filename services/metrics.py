"""`/metrics` for Prometheus: Ordo's own gauges read from the database at scrape time, and
each worker's Temporal SDK metrics (with Ordo's decision latency, recorded through the
activity metric meter), gathered from the workers' loopback ports and labelled with their
queue, so one protected endpoint answers for the whole stack."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from config import queues
from config.settings import Settings
from domain.access import Permission, Principal
from services.access import require
from store import inbox
from store import orders as order_store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Families(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def _worker_families(settings: Settings) -> tuple[list[Metric], GaugeMetricFamily]:
    """Every worker's families merged by name, each sample labelled `queue`."""
    # Loaded here, not at import: the API process holds an HTTP client only while it gathers
    # its own workers' metrics (tests/unit/test_activity_contracts.py holds the API to that).
    import httpx  # noqa: PLC0415

    merged: dict[str, Metric] = {}
    up = GaugeMetricFamily("ordo_worker_metrics_up", "1 when the worker's metrics port answered",
                           labels=["queue"])
    async with httpx.AsyncClient(timeout=2) as http:
        for queue, port in zip(queues.ALL, settings.worker_metrics_ports, strict=False):
            try:
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.HTTPError:
                up.add_metric([queue], 0)
                continue
            up.add_metric([queue], 1)
            for family in text_string_to_metric_families(text):
                target = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type,
                                                               family.unit))
                for sample in family.samples:
                    target.add_sample(sample.name, {**sample.labels, "queue": queue}, sample.value,
                                      sample.timestamp, sample.exemplar)
    return list(merged.values()), up


async def exposition(who: Principal, db: AsyncEngine, settings: Settings) -> bytes:
    require(who, Permission.ORDERS_READ)
    orders = GaugeMetricFamily("ordo_orders", "orders by their status now", labels=["status"])
    for status, count in sorted((await order_store.counts_by_status(db, channels=who.channels)).items()):
        orders.add_metric([status], count)
    backlog = GaugeMetricFamily("ordo_inbox_pending", "orders accepted and not yet started (the dispatcher's "
                                "backlog)", value=await inbox.pending_count(db))
    dead = GaugeMetricFamily("ordo_dead_letters_unresolved", "payloads refused and kept, not yet retried "
                             "successfully", value=await inbox.unresolved_dead_letters(db))
    workers, up = await _worker_families(settings)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families([orders, backlog, dead, up, *workers]))
    return generate_latest(registry)
