"""The audit trail as a use case: record a change in the same transaction as the change,
read it back (admins), and verify the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from config.keys import audit_key
from config.masking import mask_value
from config.settings import Settings
from domain.access import Permission, Principal
from services.access import require
from store import audit as audit_store
from store.audit import AuditEntry, ChainCheck


class Audit:
    def __init__(self, db: AsyncEngine, read_db: AsyncEngine, settings: Settings) -> None:
        self.db, self.read_db, self.key = db, read_db, audit_key(settings.var_dir, settings.audit_key)

    async def record(self, conn: AsyncConnection, who: Principal | str, action: str, target: str = "",
                     **detail: Any) -> AuditEntry:
        """Personal data in `detail` (an address before and after a change) is masked: the
        trail says that it changed, the vault says to what."""
        actor = who if isinstance(who, str) else who.subject
        return await audit_store.append(conn, self.key, actor, action, target,
                                        {k: mask_value(k, v) for k, v in detail.items()})

    async def write(self, who: Principal | str, action: str, target: str = "", **detail: Any) -> AuditEntry:
        """A row in a transaction of its own (a sign-in, a reveal: nothing else changes)."""
        async with self.db.begin() as conn:
            return await self.record(conn, who, action, target, **detail)

    async def entries(self, who: Principal, actor: str | None = None, action: str | None = None,
                      target: str | None = None, since: datetime | None = None,
                      limit: int = 100) -> list[AuditEntry]:
        require(who, Permission.AUDIT_READ)
        async with self.read_db.connect() as conn:
            return await audit_store.entries(conn, actor, action, target, since, limit)

    async def verify(self, who: Principal) -> ChainCheck:
        require(who, Permission.AUDIT_READ)
        async with self.read_db.connect() as conn:
            return await audit_store.verify(conn, self.key)
