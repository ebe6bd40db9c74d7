"""Deny by default: every route of the app has an entry in `ROUTES`, and a route without one
answers 403 to everyone. An entry is a permission (a credential is needed, and a role that
grants it), `AUTHENTICATED` (any credential), `PUBLIC`, or `SIGNED` (a channel's or
partner's own scheme, checked by the route: Shopify HMAC, Qimen and Alipay signatures,
carrier push secrets; nothing else is accepted there).

Credentials: `Authorization: Bearer <API key or access token>`, or the console's session
cookie, which needs the `X-CSRF-Token` header on anything that changes state.
"""

from __future__ import annotations

import hmac
from enum import Enum
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import ServicesDep
from domain.access import Permission as P
from domain.access import Principal
from services.access import require
from services.errors import Forbidden, Unauthenticated

SESSION_COOKIE = "ordo_session"
REFRESH_COOKIE = "ordo_refresh"
CSRF_COOKIE = "ordo_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# POSTs that change nothing (the Temporal UI's codec calls, which cannot send our CSRF header;
# CORS keeps other sites from reading their answers)
CSRF_EXEMPT = {"/codec/decode", "/codec/encode"}


class Access(Enum):
    PUBLIC = "public"
    SIGNED = "signed by the sender's own scheme"
    AUTHENTICATED = "any credential"


PUBLIC, SIGNED, AUTHENTICATED = Access.PUBLIC, Access.SIGNED, Access.AUTHENTICATED
Rule = P | Access

ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): PUBLIC,
    # the console's page and its own scripts (no data: that comes from the API, signed in)
    ("GET", "/"): PUBLIC,
    ("GET", "/console"): PUBLIC,
    ("GET", "/console/assets/{name}"): PUBLIC,
    ("GET", "/v1/console/settings"): AUTHENTICATED,
    ("GET", "/metrics"): P.ORDERS_READ,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("POST", "/v1/auth/login"): PUBLIC,
    ("POST", "/v1/auth/refresh"): PUBLIC,
    ("POST", "/v1/auth/logout"): AUTHENTICATED,
    ("GET", "/v1/auth/me"): AUTHENTICATED,
    # intake
    ("POST", "/v1/orders"): P.ORDERS_SUBMIT,
    ("POST", "/v1/channels/shopify/orders"): SIGNED,
    ("POST", "/v1/channels/{channel}/orders"): P.ORDERS_SUBMIT,
    ("POST", "/v1/channels/pos/batches"): P.ORDERS_SUBMIT,
    ("GET", "/v1/intake"): P.INTAKE_READ,
    # orders
    ("GET", "/v1/orders/{order_id}"): P.ORDERS_READ,
    ("GET", "/v1/orders"): P.ORDERS_READ,
    ("POST", "/v1/orders/statuses"): P.ORDERS_READ,
    ("GET", "/v1/orders/search"): P.ORDERS_READ,
    ("GET", "/v1/orders/export.csv"): P.EXPORTS,
    ("GET", "/v1/orders/{order_id}/explain"): P.ORDERS_READ,
    ("GET", "/v1/orders/{order_id}/timeline"): P.ORDERS_READ,
    ("GET", "/v1/work-queue"): P.ORDERS_READ,
    ("GET", "/v1/dashboard"): P.ORDERS_READ,
    ("GET", "/v1/dashboard/{figure}"): P.ORDERS_READ,
    ("GET", "/v1/dashboard/{figure}/csv"): P.ORDERS_READ,
    ("GET", "/v1/divisions"): AUTHENTICATED,
    ("POST", "/v1/orders/{order_id}/cancel"): P.ORDERS_ACT,
    ("POST", "/v1/orders/{order_id}/hold"): P.ORDERS_ACT,
    ("POST", "/v1/orders/{order_id}/release"): P.ORDERS_ACT,
    ("POST", "/v1/orders/{order_id}/paid"): P.ORDERS_ACT,
    ("POST", "/v1/orders/{order_id}/address"): P.ORDERS_ACT,
    # returns
    ("POST", "/v1/orders/{order_id}/returns"): P.ORDERS_SUBMIT,
    ("POST", "/v1/channels/{channel}/returns"): SIGNED,  # Shopify HMAC; other channels: an API key (route)
    ("GET", "/v1/returns/{rma}"): P.RETURNS_READ,
    ("GET", "/v1/orders/{order_id}/returns"): P.RETURNS_READ,
    ("POST", "/v1/returns/{rma}/review"): P.RETURNS_REVIEW,
    # inventory, catalogue, rules
    ("GET", "/v1/inventory"): P.INVENTORY_READ,
    ("GET", "/v1/inventory/audit"): P.INVENTORY_READ,
    ("POST", "/v1/inventory/reconcile"): P.INVENTORY_WRITE,
    ("GET", "/v1/inventory/alerts"): P.INVENTORY_READ,
    ("POST", "/v1/inventory/transfers"): P.INVENTORY_WRITE,
    ("GET", "/v1/inventory/transfers"): P.INVENTORY_READ,
    ("GET", "/v1/catalog/products"): P.CATALOG_READ,
    ("GET", "/v1/rules/versions"): P.RULES_READ,
    ("GET", "/v1/rules/files"): P.RULES_READ,
    ("GET", "/v1/rules/history/{ruleset}"): P.RULES_READ,
    ("POST", "/v1/rules/check"): P.RULES_READ,
    ("POST", "/v1/rules/simulate"): P.RULES_READ,
    ("POST", "/v1/rules/publish"): P.RULES_PUBLISH,
    ("GET", "/v1/inventory/levels"): P.INVENTORY_READ,
    ("GET", "/v1/inventory/movements"): P.INVENTORY_READ,
    # partners' pushes
    ("POST", "/v1/carriers/{carrier}/events"): SIGNED,
    ("POST", "/v1/carriers/{carrier}/routes"): SIGNED,
    ("POST", "/v1/payments/alipay/notify"): SIGNED,
    ("POST", "/v1/wms/qimen"): SIGNED,
    # people, keys, the audit trail
    ("GET", "/v1/users"): P.USERS_ADMIN,
    ("POST", "/v1/users"): P.USERS_ADMIN,
    ("POST", "/v1/users/{username}/disable"): P.USERS_ADMIN,
    ("POST", "/v1/users/{username}/enable"): P.USERS_ADMIN,
    ("POST", "/v1/users/{username}/reset-password"): P.USERS_ADMIN,
    ("GET", "/v1/tokens"): P.USERS_ADMIN,
    ("POST", "/v1/tokens"): P.USERS_ADMIN,
    ("DELETE", "/v1/tokens/{name}"): P.USERS_ADMIN,
    ("POST", "/v1/privacy/erase"): P.SETTINGS_WRITE,
    ("POST", "/v1/privacy/purge"): P.SETTINGS_WRITE,
    ("POST", "/codec/decode"): P.PII_READ,
    ("POST", "/codec/encode"): P.ORDERS_ACT,
    ("GET", "/v1/audit"): P.AUDIT_READ,
    ("GET", "/v1/audit/verify"): P.AUDIT_READ,
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, read from its own route table (HEAD aside)."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        methods = getattr(context.original_route, "methods", None) or ()
        found.update((m, str(context.path)) for m in methods if m != "HEAD")
    return found


async def authenticate(request: Request, services: ServicesDep) -> Principal:
    """The caller behind a bearer credential or the console's cookie (with its CSRF header)."""
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthenticated("send 'Authorization: Bearer <API key or access token>'")
        return await services.auth.from_bearer(credential.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal, csrf = await services.auth.from_access_token(cookie)
        if request.method not in SAFE_METHODS and request.url.path not in CSRF_EXEMPT and \
                not hmac.compare_digest(request.headers.get(CSRF_HEADER, "").encode(), csrf.encode()):
            raise Forbidden(f"a request signed in by cookie must send the {CSRF_HEADER} header "
                            f"(the value of the {CSRF_COOKIE} cookie)")
        return principal
    raise Unauthenticated("sign in first: send 'Authorization: Bearer <API key or access token>' "
                          "(POST /v1/auth/login gives a token; `ordo tokens create` an API key)")


async def guard(request: Request, services: ServicesDep) -> None:
    """Runs before every route (an app-wide dependency)."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    rule = ROUTES.get((request.method, path))
    if rule is None:
        raise Forbidden(f"{request.method} {path} is in no permission table entry; it is closed")
    if rule in (PUBLIC, SIGNED):
        return
    principal = await authenticate(request, services)
    request.state.principal = principal
    if isinstance(rule, P):
        require(principal, rule)


async def _caller(request: Request, services: ServicesDep) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal if principal is not None else await authenticate(request, services)


Caller = Annotated[Principal, Depends(_caller)]
