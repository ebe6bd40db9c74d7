"""Reading the catalogue: what Ordo sells, as a channel or a demo needs to know it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Permission, Principal
from domain.model import Product
from services.access import require
from store import catalog


async def products(who: Principal, db: AsyncEngine) -> list[Product]:
    require(who, Permission.CATALOG_READ)
    async with db.connect() as conn:
        return await catalog.all_products(conn)
