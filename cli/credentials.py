"""Who an `ordo` command acts as: the API key in ORDO_TOKEN, or else the local admin key
`ordo up` wrote to var/admin.token (0600). The command is judged by the same services and
permission table as the API, and what it changes is in the audit trail under that key.

A database with no accounts at all has nobody to ask: the first command makes the `admin`
account and the local key, exactly as `ordo up` does, and says so once.
"""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import Settings
from domain.access import Permission, Principal
from services.access import require
from services.audit import Audit
from services.auth import Auth
from services.errors import ServiceError
from services.people import People, read_key_file

err = Console(stderr=True)


async def ensure_local_admin(settings: Settings, db: AsyncEngine, console: Console = err,
                             renew_key: bool = False) -> None:
    """The first admin and the local key on a database that has none; `renew_key` (`ordo up`):
    also a new local key when its file is missing or no longer works."""
    audit = Audit(db, db, settings)
    password, path = await People(db, db, audit).bootstrap(settings, renew_key)
    if password is not None:
        console.print(f"[bold]created the account 'admin' with the password {password}[/] (shown once; "
                      f"also in {settings.admin_password_file}, readable only by you). The local "
                      f"admin API key is in {path}.", soft_wrap=True, highlight=False)


async def ensure_local_admin_at(settings: Settings, console: Console = err) -> None:
    """`ensure_local_admin` on the settings' database, renewing the local key: what a stack
    that `ordo` starts (`ordo up`, the benchmarks) does before anything calls its API."""
    from store.db import make_engine

    engine = make_engine(settings.effective_database_url)
    try:
        await ensure_local_admin(settings, engine, console, renew_key=True)
    finally:
        await engine.dispose()


async def caller(settings: Settings, db: AsyncEngine, permission: Permission | None = None) -> Principal:
    """The principal behind this command's credential; exits 2 with what to do when there is
    none that works, or when it lacks `permission`."""
    key = settings.token
    if not key:
        await ensure_local_admin(settings, db)
        key = read_key_file(settings.admin_token_file)
    try:
        who = await Auth(db, db, settings, Audit(db, db, settings)).from_api_key(key)
        if permission is not None:
            require(who, permission)
    except ServiceError as exc:
        refused(exc, "set ORDO_TOKEN to an API key an admin made with `ordo tokens create`, or run "
                     "`ordo up` once (it writes var/admin.token)")
    return who


def bearer(settings: Settings) -> dict[str, str]:
    """The Authorization header for the API, with this command's key (the demo, the
    benchmark and `ordo chaos` call the API as a script would)."""
    key = settings.token or read_key_file(settings.admin_token_file)
    return {"Authorization": f"Bearer {key}"} if key else {}


def authorised(settings: Settings, permission: Permission) -> Principal:
    """`caller` for a command that is not async itself."""
    import asyncio

    from store.db import make_engine

    async def go() -> Principal:
        db = make_engine(settings.effective_database_url)
        try:
            return await caller(settings, db, permission)
        finally:
            await db.dispose()

    return asyncio.run(go())


def refused(exc: ServiceError, hint: str = "") -> NoReturn:
    err.print(f"{exc.message}" + (f"; {hint}" if hint else ""), style="red", soft_wrap=True, markup=False)
    raise typer.Exit(2)
