"""Tokens from the company's own OpenID Connect provider: an ID or access token signed by a
key in the provider's JWKS (a URL, fetched and cached by PyJWT, or a file), with the
configured issuer and audience, whose role claim names an Ordo role (directly, or through
`ORDO_OIDC_ROLE_MAP`, e.g. `{"oms-ops": "operator"}` for a group name). Scope comes from
optional `ordo_channels` and `ordo_warehouses` claims. A person signed in this way is not in
Ordo's accounts; their provider decides who they are and for how long.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt

from config.settings import Settings
from domain.access import Principal, Role
from services.errors import Unauthenticated

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class OidcVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        source = settings.oidc_jwks
        remote = source.startswith(("http://", "https://"))
        self._client = jwt.PyJWKClient(source) if remote else None
        self._keys = None
        if source and not remote:
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(source).read_text(encoding="utf-8")))

    @staticmethod
    def configured(settings: Settings) -> bool:
        return bool(settings.oidc_issuer and settings.oidc_jwks)

    def claims_issuer(self, token: str) -> str:
        """The `iss` of a token, unverified: only to tell the provider's tokens from Ordo's."""
        try:
            return str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
        except jwt.InvalidTokenError:
            return ""

    def _key(self, token: str) -> Any:
        try:
            if self._client is not None:
                return self._client.get_signing_key_from_jwt(token).key
            kid = jwt.get_unverified_header(token).get("kid")
            assert self._keys is not None
            for key in self._keys.keys:
                if kid is None or key.key_id == kid:
                    return key.key
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise Unauthenticated(f"the provider's token names no key it publishes ({exc})") from None
        raise Unauthenticated("the provider's token names no key in its key set")

    def principal(self, token: str) -> Principal:
        s = self.settings
        try:
            claims = jwt.decode(token, self._key(token), algorithms=ALGORITHMS,
                                audience=s.oidc_audience or None, issuer=s.oidc_issuer,
                                options={"require": ["exp", "iss", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the provider's token has expired; sign in with your provider "
                                  "again") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the provider's token is not valid here ({exc})") from None
        role = self._role(claims.get(s.oidc_role_claim))
        if role is None:
            raise Unauthenticated(f"the token's '{s.oidc_role_claim}' claim names no Ordo role "
                                  f"({', '.join(r.value for r in Role)}); ask your administrator")
        return Principal(subject=f"oidc:{claims['sub']}", role=role,
                         channels=tuple(claims.get("ordo_channels") or ()),
                         warehouses=tuple(claims.get("ordo_warehouses") or ()))

    def _role(self, claim: Any) -> Role | None:
        """The strongest Ordo role among the claim's values (a string or a list of groups)."""
        values = claim if isinstance(claim, list) else [claim]
        mapped = [self.settings.oidc_role_map.get(str(v), str(v)) for v in values if v is not None]
        order = [Role.ADMIN, Role.RULES_ADMIN, Role.FINANCE, Role.OPERATOR, Role.VIEWER]
        return next((r for r in order if r.value in mapped), None)
