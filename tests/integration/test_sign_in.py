"""Signing in, staying signed in, and being thrown out: passwords, the console's cookies and
CSRF, refresh, logout, slow-down and lockout, disabled accounts and revoked keys taking
effect on the very next request. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest_asyncio
from sqlalchemy import select

from api.app import create_app
from config.settings import Settings
from domain.access import SYSTEM, Role
from services.audit import Audit
from services.auth import Auth, wait_after
from services.errors import TooManyAttempts, Unauthenticated
from services.people import People
from store import tables as t
from store.db import make_engine
from tests.harness import auth_headers, prepare_database, serve_app

PASSWORD = "correct horse battery"


@dataclass
class Api:
    url: str
    settings: Settings
    admin: dict[str, str]


@pytest_asyncio.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    await prepare_database(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path, temporal_address="127.0.0.1:1")
    admin = await auth_headers(settings)
    async with serve_app(create_app(settings)) as url, httpx.AsyncClient(base_url=url, headers=admin) as http:
        r = await http.post("/v1/users", json={"username": "li.lei", "role": "operator", "password": PASSWORD,
                                               "channels": ["tmall"]})
        assert r.status_code == 201, r.text
        yield Api(url, settings, admin)


async def test_sign_in_gives_a_token_and_the_console_its_cookies(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url) as http:
        wrong = await http.post("/v1/auth/login", json={"username": "li.lei", "password": "nope"})
        nobody = await http.post("/v1/auth/login", json={"username": "han.meimei", "password": "nope"})
        assert (wrong.status_code, nobody.status_code) == (401, 401)
        assert wrong.json()["error"] == nobody.json()["error"] == "wrong username or password"

        r = await http.post("/v1/auth/login", json={"username": "li.lei", "password": PASSWORD})
        assert r.status_code == 200, r.text
        signed = r.json()
        assert signed["role"] == "operator" and signed["expires_in"] == 15 * 60
        cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
        assert "httponly" in cookies["ordo_session"] and "samesite=strict" in cookies["ordo_session"]
        assert "httponly" in cookies["ordo_refresh"] and "path=/v1/auth" in cookies["ordo_refresh"]
        assert "httponly" not in cookies["ordo_csrf"]  # the console reads it to echo it

        me = await http.get("/v1/auth/me", headers={"Authorization": f"Bearer {signed['access_token']}"})
        assert me.json()["subject"] == "user:li.lei" and me.json()["channels"] == ["tmall"]
        assert "orders:act" in me.json()["permissions"] and "users:admin" not in me.json()["permissions"]

        # the cookie alone reads; a change needs the CSRF header too
        assert (await http.get("/v1/auth/me")).status_code == 200
        no_csrf = await http.post("/v1/orders/tmall-T1/hold", json={"reason": "check"})
        assert no_csrf.status_code == 403 and "x-csrf-token" in no_csrf.json()["error"]
        with_csrf = await http.post("/v1/orders/tmall-T1/hold", json={"reason": "check"},
                                    headers={"X-CSRF-Token": signed["csrf_token"]})
        assert with_csrf.status_code not in (401, 403), with_csrf.text  # on to the order (no Temporal: 503)


async def test_refresh_works_once_and_logout_ends_the_session_at_once(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url) as http:
        signed = (await http.post("/v1/auth/login", json={"username": "li.lei", "password": PASSWORD})).json()
        http.cookies.clear()  # a script: tokens only
        renewed = await http.post("/v1/auth/refresh", json={"refresh_token": signed["refresh_token"]})
        assert renewed.status_code == 200
        again = await http.post("/v1/auth/refresh", json={"refresh_token": signed["refresh_token"]})
        assert again.status_code == 401  # a refresh token works once
        http.cookies.clear()
        bearer = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
        assert (await http.get("/v1/orders", headers=bearer)).status_code == 200
        out = await http.post("/v1/auth/logout", headers=bearer)
        assert out.json() == {"signed_out": True}
        after = await http.get("/v1/orders", headers=bearer)
        assert after.status_code == 401 and "signed out" in after.json()["error"]
        spent = {"refresh_token": renewed.json()["refresh_token"]}
        assert (await http.post("/v1/auth/refresh", json=spent)).status_code == 401


async def test_a_disabled_account_and_a_revoked_key_are_refused_on_the_next_request(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url) as http:
        signed = (await http.post("/v1/auth/login", json={"username": "li.lei", "password": PASSWORD})).json()
        http.cookies.clear()
        bearer = {"Authorization": f"Bearer {signed['access_token']}"}
        assert (await http.get("/v1/orders", headers=bearer)).status_code == 200
        assert (await http.post("/v1/users/li.lei/disable", headers=api.admin)).status_code == 200
        assert (await http.get("/v1/orders", headers=bearer)).status_code == 401
        refused = await http.post("/v1/auth/login", json={"username": "li.lei", "password": PASSWORD})
        assert refused.status_code == 401 and "disabled" in refused.json()["error"]

        made = await http.post("/v1/tokens", json={"name": "erp-nightly", "role": "viewer"},
                               headers=api.admin)
        assert made.status_code == 201
        key = {"Authorization": f"Bearer {made.json()['key']}"}
        assert (await http.get("/v1/orders", headers=key)).status_code == 200
        listed = (await http.get("/v1/tokens", headers=api.admin)).json()["tokens"]
        erp = next(tk for tk in listed if tk["name"] == "erp-nightly")
        assert erp["last_used_at"] is not None and "key" not in erp and "secret_hash" not in erp
        assert (await http.delete("/v1/tokens/erp-nightly", headers=api.admin)).json()["revoked_at"]
        revoked = await http.get("/v1/orders", headers=key)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]


async def test_failed_sign_ins_slow_down_over_http(api: Api) -> None:
    """Three wrong passwords, then an immediate fourth try is told to wait (429, Retry-After)."""
    async with httpx.AsyncClient(base_url=api.url) as http:
        for _ in range(3):
            wrong = await http.post("/v1/auth/login", json={"username": "li.lei", "password": "x"})
            assert wrong.status_code == 401
        r = await http.post("/v1/auth/login", json={"username": "li.lei", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) in (1, 2)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_lockout_after_five_failures_lifts_after_its_time_or_a_reset(api: Api) -> None:
    """The service on a clock the test turns: 2 s and 4 s waits after the third and fourth
    failures, a 15-minute lock after the fifth, even for the right password."""
    engine = make_engine(api.settings.effective_database_url)
    clock = Clock()
    audit = Audit(engine, engine, api.settings)
    auth = Auth(engine, engine, api.settings, audit, clock)
    people = People(engine, engine, audit)
    try:
        assert [wait_after(n, 3) for n in range(1, 7)] == [0, 0, 2, 4, 8, 16]

        async def attempt(password: str) -> str:
            try:
                await auth.login("li.lei", password)
                return "in"
            except TooManyAttempts as exc:
                return f"wait {exc.extra['retry_after']}"
            except Unauthenticated:
                return "wrong"

        assert [await attempt("x") for _ in range(3)] == ["wrong"] * 3
        assert await attempt(PASSWORD) == "wait 3"  # 2 s from the third failure, rounded up
        clock.advance(2.5)
        assert await attempt("x") == "wrong"  # the fourth
        clock.advance(4.5)
        assert await attempt("x") == "wait 900"  # the fifth: locked for 15 minutes
        clock.advance(60)
        assert (await attempt(PASSWORD)).startswith("wait ")  # locked even for the right password
        clock.advance(15 * 60)
        assert await attempt(PASSWORD) == "in"
        async with engine.connect() as conn:
            row = (await conn.execute(select(t.users.c.failed_logins, t.users.c.locked_until)
                                      .where(t.users.c.username == "li.lei"))).one()
        assert (row.failed_logins, row.locked_until) == (0, None)

        for _ in range(5):
            await attempt("x")
            clock.advance(20)
        assert (await attempt(PASSWORD)).startswith("wait ")
        await people.reset_password(SYSTEM, "li.lei", PASSWORD)  # an admin lifts the lock
        assert await attempt(PASSWORD) == "in"
        failed = await audit.entries(SYSTEM, action="auth.login_failed", limit=100)
        assert len(failed) == 10 and failed[0].detail["locked"] is True
    finally:
        await engine.dispose()


async def test_accounts_and_keys_are_stored_as_hashes_only(api: Api) -> None:
    engine = make_engine(api.settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            user = (await conn.execute(select(t.users).where(t.users.c.username == "li.lei"))).one()
            keys = (await conn.execute(select(t.api_tokens.c.secret_hash))).all()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in str(tuple(user))
        assert all(len(k.secret_hash) == 64 for k in keys)
        assert api.admin["Authorization"].removeprefix("Bearer ") not in {k.secret_hash for k in keys}
        assert Role(user.role) is Role.OPERATOR
    finally:
        await engine.dispose()
