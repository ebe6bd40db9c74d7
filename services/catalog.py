"""Reading the catalogue: what Ordo sells, as a channel or a demo needs to know it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.model import Product
from store import catalog


async def products(db: AsyncEngine) -> list[Product]:
    async with db.connect() as conn:
        return await catalog.all_products(conn)
