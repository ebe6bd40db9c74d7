"""The rule-change log, and the what-if: check, simulate and publish a candidate file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.security import Caller
from services import rule_candidates, rules

router = APIRouter()


@router.get("/v1/rules/versions")
async def rule_versions(services: ServicesDep, who: Caller, ruleset: str | None = None, limit: int = 100,
                        content: bool = False) -> dict[str, Any]:
    """The append-only rule-change log, newest first: each rule set version that went
    live, who loaded it, when, and what changed. `content=true` adds the rule text."""
    found = await rules.versions(who, services.read_db, ruleset, limit)
    return {"versions": [v.model_dump(mode="json", exclude=None if content else {"content"}) for v in found]}


class Candidate(BaseModel):
    text: str = Field(min_length=1, max_length=200_000, description="a whole rule file (YAML)")


class Simulation(Candidate):
    last: int = Field(500, ge=1, le=100_000, description="re-decide the last N recorded orders")


class Publication(Candidate):
    reason: str = Field(min_length=1, max_length=500, description="why: kept in the audit trail")


@router.get("/v1/rules/files")
async def files(services: ServicesDep, who: Caller) -> dict[str, Any]:
    """The rule files in force (the folder the workers load), with their text and version."""
    return {"files": [f.model_dump() for f in rule_candidates.files(who, services.settings.rules_dir)]}


@router.get("/v1/rules/history/{ruleset}")
async def history(ruleset: str, services: ServicesDep, who: Caller, limit: int = 20) -> dict[str, Any]:
    """The rule set's versions, newest first, each with a unified diff from the one before."""
    return {"versions": await rule_candidates.history(who, services.read_db, ruleset, limit)}


@router.post("/v1/rules/check")
async def check(body: Candidate, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """`ordo rules check` on a candidate: problems with line and column, and how it differs
    from the file in force. Changes nothing."""
    return rule_candidates.check(who, services.settings.rules_dir, body.text).model_dump()


@router.post("/v1/rules/simulate")
async def simulate(body: Simulation, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """What the candidate would have decided for the last N recorded orders: the decisions
    that change, grouped, with sample orders. Changes nothing."""
    return await rule_candidates.simulate(who, services.read_db, services.settings.rules_dir, body.text,
                                          body.last)


@router.post("/v1/rules/publish")
async def publish(body: Publication, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Put a candidate that passes check in force (needs `rules:publish`): written to the
    rule folder, picked up by the workers' hot reload, audited with the reason."""
    found = await rule_candidates.publish(who, services.settings.rules_dir, services.audit, body.text,
                                          body.reason)
    return found.model_dump()
