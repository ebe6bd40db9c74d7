"""People, API keys and sign-in sessions as stored: hashes only, never a password or a key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from store import tables as t


class UserSummary(BaseModel):
    """An account as an admin sees it: no hash, no failure count."""

    username: str
    role: str
    channels: list[str]
    warehouses: list[str]
    disabled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class UserRow(UserSummary):
    password_hash: str
    failed_logins: int
    last_failed_at: datetime | None


class TokenSummary(BaseModel):
    """An API key as an admin sees it: its id and name, never the key or its hash."""

    id: str
    name: str
    role: str
    channels: list[str]
    warehouses: list[str]
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class TokenRow(TokenSummary):
    secret_hash: str


class SessionRow(BaseModel):
    id: str
    username: str
    refresh_hash: str
    csrf_token: str
    expires_at: datetime
    revoked_at: datetime | None


class Duplicate(Exception):
    """The name is taken."""


async def add_user(conn: AsyncConnection, **values: Any) -> None:
    try:
        async with conn.begin_nested():
            await conn.execute(t.users.insert().values(**values))
    except IntegrityError:
        raise Duplicate(values["username"]) from None


async def get_user(conn: AsyncConnection, username: str) -> UserRow | None:
    row = (await conn.execute(select(t.users).where(t.users.c.username == username))).first()
    return UserRow.model_validate(row._mapping) if row else None


async def list_users(conn: AsyncConnection) -> list[UserRow]:
    rows = (await conn.execute(select(t.users).order_by(t.users.c.username))).all()
    return [UserRow.model_validate(r._mapping) for r in rows]


async def count_users(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(t.users))).scalar_one())


async def update_user(conn: AsyncConnection, username: str, **values: Any) -> bool:
    res = await conn.execute(update(t.users).where(t.users.c.username == username).values(**values))
    return bool(res.rowcount)


async def add_token(conn: AsyncConnection, **values: Any) -> None:
    try:
        async with conn.begin_nested():
            await conn.execute(t.api_tokens.insert().values(**values))
    except IntegrityError:
        raise Duplicate(values["name"]) from None


async def get_token(conn: AsyncConnection, token_id: str) -> TokenRow | None:
    row = (await conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id))).first()
    return TokenRow.model_validate(row._mapping) if row else None


async def token_named(conn: AsyncConnection, name: str) -> TokenRow | None:
    row = (await conn.execute(select(t.api_tokens).where(t.api_tokens.c.name == name))).first()
    return TokenRow.model_validate(row._mapping) if row else None


async def list_tokens(conn: AsyncConnection) -> list[TokenRow]:
    rows = (await conn.execute(select(t.api_tokens).order_by(t.api_tokens.c.created_at))).all()
    return [TokenRow.model_validate(r._mapping) for r in rows]


async def update_token(conn: AsyncConnection, token_id: str, **values: Any) -> bool:
    res = await conn.execute(update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(**values))
    return bool(res.rowcount)


async def add_session(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(t.sessions.insert().values(**values))


async def get_session(conn: AsyncConnection, session_id: str) -> SessionRow | None:
    row = (await conn.execute(select(t.sessions).where(t.sessions.c.id == session_id))).first()
    return SessionRow.model_validate(row._mapping) if row else None


async def session_by_refresh(conn: AsyncConnection, refresh_hash: str) -> SessionRow | None:
    row = (await conn.execute(select(t.sessions).where(t.sessions.c.refresh_hash == refresh_hash))).first()
    return SessionRow.model_validate(row._mapping) if row else None


async def update_session(conn: AsyncConnection, session_id: str, **values: Any) -> bool:
    res = await conn.execute(update(t.sessions).where(t.sessions.c.id == session_id).values(**values))
    return bool(res.rowcount)


async def revoke_sessions_of(conn: AsyncConnection, username: str, at: datetime) -> None:
    await conn.execute(update(t.sessions).where(t.sessions.c.username == username,
                                                t.sessions.c.revoked_at.is_(None)).values(revoked_at=at))
