"""The rule-change log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep
from api.security import Caller
from services import rules

router = APIRouter()


@router.get("/v1/rules/versions")
async def rule_versions(services: ServicesDep, who: Caller, ruleset: str | None = None, limit: int = 100,
                        content: bool = False) -> dict[str, Any]:
    """The append-only rule-change log, newest first: each rule set version that went
    live, who loaded it, when, and what changed. `content=true` adds the rule text."""
    found = await rules.versions(who, services.read_db, ruleset, limit)
    return {"versions": [v.model_dump(mode="json", exclude=None if content else {"content"}) for v in found]}
