"""Who may see personal data in API responses: operators and admins; everyone else gets masks."""

from __future__ import annotations

from typing import Any

from config.logs import mask_value

PRIVILEGED_ROLES = {"operator", "admin"}


def for_role(role: str | None, data: dict[str, Any]) -> dict[str, Any]:
    if role in PRIVILEGED_ROLES:
        return data
    return {k: mask_value(k, v) for k, v in data.items()}
