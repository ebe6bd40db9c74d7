"""Signing in and out. The answer carries the tokens (for scripts) and sets the console's
cookies: the session (HttpOnly, SameSite=Strict), the refresh token (HttpOnly, sent only to
/v1/auth), and the CSRF token the console echoes in `X-CSRF-Token`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.security import CSRF_COOKIE, REFRESH_COOKIE, SESSION_COOKIE, Caller
from domain.access import Permission
from services.auth import SignedIn
from services.errors import Unauthenticated

router = APIRouter()


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = ""


def _set_cookies(response: Response, signed: SignedIn, secure: bool, refresh_seconds: int) -> None:
    response.set_cookie(SESSION_COOKIE, signed.access_token, max_age=signed.expires_in, httponly=True,
                        samesite="strict", secure=secure, path="/")
    response.set_cookie(REFRESH_COOKIE, signed.refresh_token, max_age=refresh_seconds, httponly=True,
                        samesite="strict", secure=secure, path="/v1/auth")
    response.set_cookie(CSRF_COOKIE, signed.csrf_token, max_age=refresh_seconds, httponly=False,
                        samesite="strict", secure=secure, path="/")


def _answer(response: Response, signed: SignedIn, request: Request, services: ServicesDep) -> dict[str, Any]:
    _set_cookies(response, signed, request.url.scheme == "https",
                 int(services.settings.refresh_token_hours * 3600))
    return signed.model_dump()


@router.post("/v1/auth/login")
async def login(body: Credentials, request: Request, response: Response,
                services: ServicesDep) -> dict[str, Any]:
    """A short-lived access token (send it as `Authorization: Bearer ...`), a refresh token
    and the console's cookies. 401 for a wrong username or password (which of the two is
    not said); 429 with Retry-After once failures pile up, and while the account is locked."""
    source = request.client.host if request.client else ""
    signed = await services.auth.login(body.username, body.password, source)
    return _answer(response, signed, request, services)


@router.post("/v1/auth/refresh")
async def refresh(request: Request, response: Response, services: ServicesDep,
                  body: RefreshRequest | None = None) -> dict[str, Any]:
    """A new access token for a refresh token (in the body, or the console's cookie); the
    refresh token is replaced, so each one works once."""
    token = (body.refresh_token if body else "") or request.cookies.get(REFRESH_COOKIE, "")
    if not token:
        raise Unauthenticated("send the refresh token from sign-in as {\"refresh_token\": ...}")
    return _answer(response, await services.auth.refresh(token), request, services)


@router.post("/v1/auth/logout")
async def logout(who: Caller, response: Response, services: ServicesDep) -> dict[str, Any]:
    """Ends the session at once: its access and refresh tokens stop working on the next request."""
    await services.auth.logout(who)
    for name, path in ((SESSION_COOKIE, "/"), (REFRESH_COOKIE, "/v1/auth"), (CSRF_COOKIE, "/")):
        response.delete_cookie(name, path=path)
    return {"signed_out": bool(who.session_id)}


@router.get("/v1/auth/me")
async def me(who: Caller) -> dict[str, Any]:
    """Who the credential belongs to, its role, what it may do, and its scope."""
    return {"subject": who.subject, "role": who.role.value,
            "permissions": sorted(p.value for p in Permission if who.can(p)),
            "channels": list(who.channels), "warehouses": list(who.warehouses)}

