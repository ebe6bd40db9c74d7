"""Tokens from the company's OpenID Connect provider, with a key set made here: a valid
token signs the caller in with the role its claim names (or its group maps to) and the
scope its claims give; a wrong audience or issuer, an expired token, a key the provider
does not publish, a claim naming no role are all 401. The key set is served over HTTP as a
provider publishes it, and read from a file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from api.app import create_app
from config.settings import Settings
from tests.harness import prepare_database, serve_app

ISSUER, AUDIENCE = "https://id.example.com/", "ordo"


def _key_set() -> tuple[Any, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}


def _token(key: Any, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-42", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


@pytest.mark.parametrize("served", [False, True], ids=["file", "url"])
async def test_provider_tokens_sign_in_with_the_role_and_scope_their_claims_give(
    served: bool, tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ordo.db'}"
    await prepare_database(url)
    key, jwks = _key_set()
    other, _ = _key_set()
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks))
    provider = FastAPI()
    provider.get("/jwks")(lambda: jwks)
    async with serve_app(provider) as idp:
        settings = Settings(database_url=url, var_dir=tmp_path, temporal_address="127.0.0.1:1",
                            oidc_issuer=ISSUER, oidc_audience=AUDIENCE,
                            oidc_jwks=f"{idp}/jwks" if served else str(jwks_file),
                            oidc_role_map={"oms-ops": "operator"})
        async with serve_app(create_app(settings)) as api, httpx.AsyncClient(base_url=api) as http:
            async def me(token: str) -> httpx.Response:
                return await http.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})

            direct = await me(_token(key, ordo_role="viewer", ordo_channels=["tmall"]))
            assert direct.status_code == 200, direct.text
            assert direct.json()["subject"] == "oidc:u-42" and direct.json()["role"] == "viewer"
            assert direct.json()["channels"] == ["tmall"]
            grouped = await me(_token(key, ordo_role=["staff", "oms-ops"]))
            assert grouped.json()["role"] == "operator"
            ops = {"Authorization": f"Bearer {_token(key, ordo_role='viewer')}"}
            assert (await http.post("/v1/orders/tmall-1/hold", json={}, headers=ops)).status_code == 403

            for bad, why in ((_token(key, aud="someone-else", ordo_role="admin"), "audience"),
                             (_token(key, iss="https://evil.example/", ordo_role="admin"), "not valid"),
                             (_token(key, exp=int(time.time()) - 10, ordo_role="admin"), "expired"),
                             (_token(other, ordo_role="admin"), "not valid"),
                             (_token(key, kid="k9", ordo_role="admin"), "key"),
                             (_token(key, ordo_role="superuser"), "no Ordo role")):
                r = await me(bad)
                assert r.status_code == 401 and why.lower() in r.json()["error"].lower(), (why, r.text)

