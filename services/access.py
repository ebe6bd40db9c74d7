"""The one place a use case asks "may this caller do that here?": every service calls these
before it reads or changes anything, so the API, the console and the CLI obey one table
(`domain.access`)."""

from __future__ import annotations

from domain.access import Permission, Principal
from services.errors import Forbidden, NotFound


def require(who: Principal, permission: Permission) -> None:
    if not who.can(permission):
        raise Forbidden(f"{who.subject} ({who.role.value}) may not do this: it needs '{permission.value}'; "
                        "ask an admin for a role that has it", permission=permission.value)


def require_order(who: Principal, permission: Permission, order_id: str) -> None:
    """Out of scope reads as not there: a Tmall shop's staff learn nothing of JD's orders."""
    require(who, permission)
    if not who.sees_order(order_id):
        raise NotFound(f"no order '{order_id}' in your channels ({', '.join(who.channels)})")


def require_warehouses(who: Principal, permission: Permission, *warehouses: str) -> None:
    require(who, permission)
    outside = [w for w in warehouses if not who.sees_warehouse(w)]
    if outside:
        raise Forbidden(f"warehouse {', '.join(outside)} is outside your scope "
                        f"({', '.join(who.warehouses)})", permission=permission.value)
