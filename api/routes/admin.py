"""People, API keys and the audit trail, for admins (the same services as `ordo users`,
`ordo tokens` and `ordo audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.security import Caller
from domain.access import Role
from services.privacy import MAX_RETENTION_DAYS

router = APIRouter()


class NewUser(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    role: Role
    password: str | None = Field(None, description="omitted: one is generated and returned once")
    channels: list[str] = Field([], description="empty: every channel")
    warehouses: list[str] = Field([], description="empty: every warehouse")


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role
    channels: list[str] = []
    warehouses: list[str] = []


class PasswordReset(BaseModel):
    password: str | None = None


@router.get("/v1/users")
async def users(who: Caller, services: ServicesDep) -> dict[str, Any]:
    return {"users": [u.model_dump(mode="json") for u in await services.people.users(who)]}


@router.post("/v1/users", status_code=201)
async def add_user(body: NewUser, who: Caller, services: ServicesDep) -> JSONResponse:
    """The account, and its password once if it was generated."""
    user, password = await services.people.add_user(who, body.username, body.role, body.password,
                                                     body.channels, body.warehouses)
    answer: dict[str, Any] = {"user": user.model_dump(mode="json")}
    if body.password is None:
        answer["password"] = password
    return JSONResponse(answer, status_code=201)


@router.post("/v1/users/{username}/disable")
async def disable(username: str, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """The account can no longer sign in, and its sessions end at once."""
    await services.people.set_disabled(who, username, True)
    return {"username": username, "disabled": True}


@router.post("/v1/users/{username}/enable")
async def enable(username: str, who: Caller, services: ServicesDep) -> dict[str, Any]:
    await services.people.set_disabled(who, username, False)
    return {"username": username, "disabled": False}


@router.post("/v1/users/{username}/reset-password")
async def reset_password(username: str, who: Caller, services: ServicesDep,
                         body: PasswordReset | None = None) -> dict[str, Any]:
    """A new password (generated unless given, returned once), the lock lifted, every session ended."""
    password = await services.people.reset_password(who, username, body.password if body else None)
    return {"username": username, **({"password": password} if not (body and body.password) else {})}


@router.get("/v1/tokens")
async def tokens(who: Caller, services: ServicesDep) -> dict[str, Any]:
    return {"tokens": [t.model_dump(mode="json") for t in await services.people.tokens(who)]}


@router.post("/v1/tokens", status_code=201)
async def create_token(body: NewToken, who: Caller, services: ServicesDep) -> JSONResponse:
    """The key is in this answer only; Ordo keeps its hash."""
    made = await services.people.create_token(who, body.name, body.role, body.channels, body.warehouses)
    return JSONResponse(made.model_dump(mode="json"), status_code=201)


@router.delete("/v1/tokens/{name}")
async def revoke_token(name: str, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """Revoked at once: the key's next request is refused."""
    return (await services.people.revoke_token(who, name)).model_dump(mode="json")


class Erasure(BaseModel):
    customer_id: str = Field(min_length=1, max_length=200)


class Retention(BaseModel):
    older_than_days: float = Field(gt=0, le=MAX_RETENTION_DAYS,
                                   description="orders closed before then; dead letters older")


@router.post("/v1/privacy/erase")
async def erase(body: Erasure, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """PIPL erasure: the customer's personal data unreadable everywhere Ordo keeps it (the
    vault every order and workflow history refers to, raw payloads); figures stay."""
    return (await services.privacy.erase_customer(who, body.customer_id)).model_dump()


@router.post("/v1/privacy/purge")
async def purge(body: Retention, who: Caller, services: ServicesDep) -> dict[str, Any]:
    """The retention schedule, now: personal data of orders closed more than N days ago."""
    return (await services.privacy.purge_expired(who, body.older_than_days)).model_dump()


@router.get("/v1/audit")
async def audit(who: Caller, services: ServicesDep, actor: str | None = None, action: str | None = None,
                target: str | None = None, since: datetime | None = None, limit: int = 100) -> dict[str, Any]:
    """The audit trail, newest first; `action` takes `*` (e.g. `order.*`)."""
    found = await services.audit.entries(who, actor, action, target, since, max(1, min(limit, 1000)))
    return {"entries": [e.model_dump(mode="json") for e in found]}


@router.get("/v1/audit/verify")
async def verify(who: Caller, services: ServicesDep) -> dict[str, Any]:
    """Walks the hash chain: `ok`, or the first row that was changed, deleted or inserted."""
    return (await services.audit.verify(who)).model_dump()
