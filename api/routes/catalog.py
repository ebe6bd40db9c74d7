"""The catalogue as Ordo knows it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep
from api.security import Caller
from services import catalog

router = APIRouter()


@router.get("/v1/catalog/products")
async def products(services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Every product: SKU, name, price, weight, temperature, hazmat, oversize, returnable."""
    return {"products": [p.model_dump(mode="json") for p in await catalog.products(who, services.read_db)]}
