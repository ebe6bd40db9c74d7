"""The dashboard's figures, as JSON (with definitions) or CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import ServicesDep
from api.security import Caller
from domain.kpis import DashboardQuery
from services import dashboard

router = APIRouter()
Filters = Annotated[DashboardQuery, Query()]


@router.get("/v1/dashboard")
async def every_figure(filters: Filters, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Every figure for the range and filters, each with its definition, when it was
    computed, and the order list's filters for the orders behind it."""
    figures = await dashboard.dashboard(who, services.read_db, filters)
    return {"figures": [f.model_dump(mode="json") for f in figures]}


@router.get("/v1/dashboard/{figure}")
async def one_figure(figure: str, filters: Filters, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """One figure by its id (`GET /v1/dashboard` lists them)."""
    return (await dashboard.figure(who, services.read_db, figure, filters)).model_dump(mode="json")


@router.get("/v1/dashboard/{figure}/csv")
async def figure_csv(figure: str, filters: Filters, services: ServicesDep, who: Caller) -> Response:
    """One figure as CSV (its columns as the header)."""
    found = await dashboard.figure(who, services.read_db, figure, filters)
    name = f"{figure}_{filters.date_from}_{filters.date_to}.csv"
    return Response(dashboard.as_csv(found), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})
