"""Administrative divisions for address choosers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.security import Caller
from services.divisions import divisions

router = APIRouter()


@router.get("/v1/divisions")
async def children(who: Caller, parent: str = "") -> dict[str, Any]:
    """The provinces, or the cities of a province, or the districts of a city (by code)."""
    return {"divisions": [d.model_dump() for d in divisions(parent)]}
