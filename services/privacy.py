"""PIPL's right to erasure and the retention schedule as use cases: a customer's personal
data made unreadable everywhere Ordo keeps it, while their orders' figures and decisions
stay for the books; each erasure in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Permission, Principal
from domain.errors import FieldError
from services.access import require
from services.audit import Audit
from services.errors import Invalid
from store import erasure

MAX_RETENTION_DAYS = 36_500  # a century; beyond it the date arithmetic overflows


class Erased(BaseModel):
    customer_id: str = ""
    orders: list[str]
    vault_records: int
    raw_rows: int


class Privacy:
    def __init__(self, db: AsyncEngine, audit: Audit) -> None:
        self.db, self.audit = db, audit

    async def erase_customer(self, who: Principal, customer_id: str) -> Erased:
        """The vault records (which every order, inbox row and workflow history refers to),
        the raw payloads of the customer's orders, and the log that still holds them."""
        require(who, Permission.SETTINGS_WRITE)
        async with self.db.begin() as conn:
            orders = await erasure.orders_of(conn, customer_id)
            records = await erasure.erase_vault_of_orders(conn, orders, customer_id)
            raw = await erasure.purge_raw(conn, orders)
            await self.audit.record(conn, who, "privacy.erased", f"customer:{customer_id}",
                                    orders=len(orders))
        await erasure.compact(self.db)
        return Erased(customer_id=customer_id, orders=orders, vault_records=records, raw_rows=raw)

    async def purge_expired(self, who: Principal, days: float) -> Erased:
        """Retention: personal data of orders closed more than `days` ago, and dead letters older."""
        require(who, Permission.SETTINGS_WRITE)
        if not 0 < days <= MAX_RETENTION_DAYS:
            raise Invalid("the retention is out of range", [FieldError(
                field="older_than_days", reason=f"between 0 and {MAX_RETENTION_DAYS} days")])
        before = datetime.now(UTC) - timedelta(days=days)
        async with self.db.begin() as conn:
            orders = await erasure.expired_orders(conn, before)
            records = await erasure.erase_vault_of_orders(conn, orders)
            raw = await erasure.purge_raw(conn, orders) + await erasure.purge_old_dead_letters(conn, before)
            if orders or raw:
                await self.audit.record(conn, who, "privacy.retention", f"older than {days:g} days",
                                        orders=len(orders), raw_rows=raw)
        await erasure.compact(self.db)
        return Erased(orders=orders, vault_records=records, raw_rows=raw)
