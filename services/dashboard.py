"""The dashboard (数据分析与报表中心): each figure for a date range and filters, with its
definition and the time it was computed, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Permission, Principal
from domain.kpis import KPIS, DashboardQuery, Kpi
from services.access import require
from services.errors import NotFound
from store import analytics


class Figure(BaseModel):
    kpi: Kpi
    rows: list[dict[str, Any]]
    computed_at: datetime
    seconds: float
    orders_link: dict[str, str]  # the order list's filters for the orders behind it


def _link(kpi_id: str, q: DashboardQuery) -> dict[str, str]:
    base = {"date_from": q.date_from.isoformat(), "date_to": q.date_to.isoformat()}
    for key in ("channel", "warehouse", "tier"):
        value = getattr(q, key)
        if value and key in KPIS[kpi_id].filters:
            base[key] = value
    extra = {"processing_time": {"shipped": "yes"}, "on_time_ship": {"shipped": "late"},
             "on_time_delivery": {"shipped": "yes"}, "cancel_refund": {"status": "cancelled"}}
    return {**base, **extra.get(kpi_id, {})}


async def figure(who: Principal, db: AsyncEngine, kpi_id: str, q: DashboardQuery) -> Figure:
    require(who, Permission.ORDERS_READ)
    if kpi_id not in KPIS:
        raise NotFound(f"no figure '{kpi_id}'; the dashboard has {', '.join(KPIS)}")
    started = datetime.now(UTC)
    async with db.connect() as conn:
        rows = await analytics.FIGURES[kpi_id](conn, q, who.channels)
    done = datetime.now(UTC)
    return Figure(kpi=KPIS[kpi_id], rows=analytics.decimal_free(rows), computed_at=done,
                  seconds=round((done - started).total_seconds(), 4), orders_link=_link(kpi_id, q))


async def dashboard(who: Principal, db: AsyncEngine, q: DashboardQuery) -> list[Figure]:
    return [await figure(who, db, kpi_id, q) for kpi_id in KPIS]


def as_csv(fig: Figure) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fig.kpi.columns)
    for row in fig.rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in fig.kpi.columns])
    return buffer.getvalue()
