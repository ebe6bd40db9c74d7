"""Who may do what: roles, the permissions each grants, and a principal's channel and
warehouse scope. Pure data and decisions, so the API, the console and the `ordo` command
are judged by one table (checked in `services/`), and the README's roles table is this one.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    RULES_ADMIN = "rules-admin"
    FINANCE = "finance"
    ADMIN = "admin"


class Permission(StrEnum):
    ORDERS_READ = "orders:read"
    ORDERS_SUBMIT = "orders:submit"  # put orders and returns in through the API (ERP jobs, scripts)
    ORDERS_ACT = "orders:act"  # cancel, hold, release, paid, change the address
    RETURNS_READ = "returns:read"
    RETURNS_REVIEW = "returns:review"
    INVENTORY_READ = "inventory:read"
    INVENTORY_WRITE = "inventory:write"  # transfers, reconciliation, rebalancing, schedules
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    RULES_READ = "rules:read"
    RULES_PUBLISH = "rules:publish"
    INTAKE_READ = "intake:read"
    INTAKE_RETRY = "intake:retry"
    PAYMENTS_READ = "payments:read"
    REFUNDS = "refunds:issue"
    EXPORTS = "exports:run"
    PII_READ = "pii:read"  # see personal data in full, with a stated purpose; each reveal audited
    AUDIT_READ = "audit:read"
    USERS_ADMIN = "users:admin"  # people and API keys
    SETTINGS_WRITE = "settings:write"  # database migrations, privacy erasure


_VIEW = frozenset({Permission.ORDERS_READ, Permission.RETURNS_READ, Permission.INVENTORY_READ,
                   Permission.CATALOG_READ, Permission.RULES_READ, Permission.INTAKE_READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEW,
    Role.OPERATOR: _VIEW | {Permission.ORDERS_SUBMIT, Permission.ORDERS_ACT, Permission.RETURNS_REVIEW,
                            Permission.INVENTORY_WRITE, Permission.INTAKE_RETRY, Permission.PII_READ},
    Role.RULES_ADMIN: _VIEW | {Permission.RULES_PUBLISH},
    Role.FINANCE: _VIEW | {Permission.PAYMENTS_READ, Permission.REFUNDS, Permission.EXPORTS},
    Role.ADMIN: frozenset(Permission),
}

ROLE_SUMMARY: dict[Role, str] = {
    Role.VIEWER: "read orders, returns, inventory, rules, the catalogue and the intake; personal data masked",
    Role.OPERATOR: "viewer + submit orders, operator actions, return reviews, transfers and "
                   "reconciliation, dead-letter retries, personal data revealed with a purpose",
    Role.RULES_ADMIN: "viewer + publish rule changes",
    Role.FINANCE: "viewer + payments, refunds, exports",
    Role.ADMIN: "everything, including people, API keys, the audit trail and erasure",
}


class Purpose(StrEnum):
    """Why a person needs to see personal data in full, as the marketplaces' decryption
    scene codes ask: each reveal is written to the audit trail with it."""

    SHIPPING = "shipping"
    AFTER_SALES = "after-sales"
    CUSTOMER_CARE = "customer-care"


class Principal(BaseModel):
    """Whoever is asking: a person signed in, or a machine's API key. `channels` and
    `warehouses` empty mean every one; otherwise only those."""

    model_config = ConfigDict(frozen=True)

    subject: str  # "user:alice" or "token:erp-nightly"
    role: Role
    channels: tuple[str, ...] = ()
    warehouses: tuple[str, ...] = ()
    session_id: str = ""  # a person's sign-in session (revoked at logout)

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def sees_channel(self, channel: str) -> bool:
        return not self.channels or channel in self.channels

    def sees_warehouse(self, warehouse: str) -> bool:
        return not self.warehouses or warehouse in self.warehouses

    def sees_order(self, order_id: str) -> bool:
        """An order id is `<channel>-<external id>`, and a channel name has no hyphen."""
        return self.sees_channel(order_id.split("-", 1)[0])


def channel_principal(channel: str) -> Principal:
    """A channel's own signed webhook (Shopify's HMAC): it may put in its own orders and
    returns, nothing else."""
    return Principal(subject=f"channel:{channel}", role=Role.OPERATOR, channels=(channel,))


SYSTEM = Principal(subject="system:ordo", role=Role.ADMIN)
"""Ordo's own processes acting on their own behalf (the dispatcher, schedules)."""
