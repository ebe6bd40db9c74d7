"""Everything a use case needs, opened once per process (the API, a command) and closed in
order: the database (a writer and a reader), Temporal, the inbox writer, the services."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from config.codec import EncryptionCodec
from config.sealing import sealer
from config.settings import Settings
from services.audit import Audit
from services.auth import Auth
from services.intake import IntakeService
from services.orders import Orders
from services.people import People
from services.privacy import Privacy
from services.returns import Returns
from services.temporal import LazyTemporal
from services.wms_reports import WmsReports
from store import inbox as inbox_store
from store.db import make_engine
from store.vault import Vault


@dataclass
class Services:
    settings: Settings
    db: AsyncEngine
    read_db: AsyncEngine
    temporal: LazyTemporal
    intake: IntakeService
    orders: Orders
    returns: Returns
    wms: WmsReports
    audit: Audit
    auth: Auth
    people: People
    vault: Vault
    privacy: Privacy
    codec: EncryptionCodec  # the Web UI's codec server (api/routes/codec.py)


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    db = make_engine(settings.effective_database_url)
    read_db = make_engine(settings.effective_database_url, readonly=True)
    temporal = LazyTemporal(settings)
    writer = inbox_store.InboxWriter(db)
    writer.start()
    audit = Audit(db, read_db, settings)
    vault = Vault(db, settings.var_dir)
    try:
        yield Services(settings=settings, db=db, read_db=read_db, temporal=temporal,
                       intake=IntakeService(db, writer, vault),
                       orders=Orders(db, read_db, temporal, audit, vault),
                       returns=Returns(db, read_db, temporal, audit), wms=WmsReports(db, temporal, settings),
                       audit=audit, auth=Auth(db, read_db, settings, audit),
                       people=People(db, read_db, audit), vault=vault, privacy=Privacy(db, audit),
                       codec=EncryptionCodec(sealer(settings.var_dir, "codec")))
    finally:
        await writer.stop()
        await db.dispose()
        await read_db.dispose()
