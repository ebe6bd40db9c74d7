"""The operator's work queue: orders and returns waiting for a person."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.security import Caller
from services import work_queue

router = APIRouter()


@router.get("/v1/work-queue")
async def waiting(services: ServicesDep, who: Caller,
                  exception_type: Annotated[str | None, Query(description="one group's page only")] = None,
                  page: Annotated[int, Query(ge=1)] = 1,
                  per_group: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    """Orders held or awaiting an operator, grouped by exception type, oldest first (with the
    rule that sent each there and its reason), and returns awaiting review. `fingerprint`
    changes whenever an order joins or leaves the queue."""
    found = await work_queue.waiting(who, services.read_db, exception_type, page, per_group)
    return found.model_dump(mode="json")
