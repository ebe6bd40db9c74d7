"""Deny by default, checked from the application's own route table: every route has an entry
in the permission table, and for every route and every role the answer is the documented
one: 401 without a credential, 403 with a role that lacks the permission, neither with one
that has it; the channels' and partners' signed routes refuse an unsigned request whatever
credential comes with it. Temporal is pointed at a closed port, so a route an allowed
role reaches answers quickly (503) instead of doing the work."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from api.security import AUTHENTICATED, PUBLIC, ROUTES, SIGNED, app_routes
from config.settings import Settings
from domain.access import ROLE_PERMISSIONS, Permission, Role
from tests.harness import api_key, prepare_database, serve_app

PATH_VALUES = {"order_id": "tmall-T-none", "channel": "taobao", "rma": "RMA-none", "carrier": "sf",
               "username": "nobody", "name": "nobody", "figure": "orders_per_day", "ruleset": "priority"}


@dataclass
class Stack:
    app: FastAPI
    url: str
    keys: dict[Role, str]


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    var: Path = tmp_path_factory.mktemp("matrix")
    url = f"sqlite+aiosqlite:///{var / 'ordo.db'}"
    await prepare_database(url)
    settings = Settings(database_url=url, var_dir=var, temporal_address="127.0.0.1:1")
    keys = {role: await api_key(settings, role) for role in Role}
    app = create_app(settings)
    async with serve_app(app) as api:
        yield Stack(app, api, keys)


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def test_every_route_has_an_entry_and_every_entry_a_route() -> None:
    routes = app_routes(create_app(Settings()))
    assert sorted(routes - ROUTES.keys()) == [], "routes with no entry in api.security.ROUTES (closed to all)"
    assert sorted(ROUTES.keys() - routes) == [], "entries in api.security.ROUTES for routes that do not exist"


async def test_each_route_answers_each_role_as_documented(stack: Stack) -> None:
    checked = 0
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        async def ask(method: str, path: str, role: Role | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {stack.keys[role]}"} if role else {}
            body: dict[str, object] | None = {} if method in ("POST", "PUT", "DELETE") else None
            return await http.request(method, _url(path), json=body, headers=headers)

        for (method, path), rule in sorted(ROUTES.items(), key=lambda kv: kv[0][::-1]):
            anonymous = await ask(method, path, None)
            if rule is PUBLIC:  # only the sign-in routes may say 401, about the credentials they were sent
                refused = (403,) if path.startswith("/v1/auth/") else (401, 403)
                assert anonymous.status_code not in refused, (method, path, anonymous.text)
                continue
            if rule is SIGNED:
                for role in (None, Role.ADMIN):  # a bearer credential opens nothing here
                    r = await ask(method, path, role)
                    assert r.status_code in (400, 401, 404, 422) and "success" not in r.text, \
                        (method, path, role, r.status_code, r.text)
                    checked += 1
                continue
            assert anonymous.status_code == 401, (method, path, anonymous.status_code, anonymous.text)
            assert anonymous.headers["www-authenticate"] == "Bearer"
            for role in Role:
                r = await ask(method, path, role)
                allowed = rule is AUTHENTICATED or (isinstance(rule, Permission)
                                                    and rule in ROLE_PERMISSIONS[role])
                if allowed:
                    assert r.status_code not in (401, 403), (method, path, role, r.status_code, r.text)
                else:
                    assert r.status_code == 403, (method, path, role, r.status_code, r.text)
                    assert isinstance(rule, Permission) and rule.value in r.json()["error"]
                checked += 1
    protected = sum(1 for rule in ROUTES.values() if rule not in (PUBLIC, SIGNED))
    signed = sum(1 for rule in ROUTES.values() if rule is SIGNED)
    assert checked == protected * len(Role) + signed * 2 == 302


async def test_a_bad_or_foreign_credential_is_401_never_a_pass(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        for header in ("Bearer ordo_nope_nope", "Bearer not-a-jwt", "Basic YWRtaW46YWRtaW4=", "Bearer",
                       f"Bearer {stack.keys[Role.ADMIN]}x"):
            r = await http.get("/v1/orders", headers={"Authorization": header})
            assert r.status_code == 401, (header, r.text)
        r = await http.get("/v1/orders", headers={"X-Ordo-Role": "admin"})  # the old header opens nothing
        assert r.status_code == 401
