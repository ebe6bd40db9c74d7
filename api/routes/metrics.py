"""Prometheus scrapes `/metrics` with an API key (`bearer_token` in its scrape config)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import ServicesDep
from api.security import Caller
from services import metrics

router = APIRouter()


@router.get("/metrics", response_class=Response)
async def scrape(services: ServicesDep, who: Caller) -> Response:
    """Orders by status, the inbox backlog, dead letters, and every worker's Temporal SDK
    metrics with Ordo's decision latency per rule set (README, Metrics)."""
    body = await metrics.exposition(who, services.read_db, services.settings)
    return Response(body, media_type=metrics.CONTENT_TYPE)
