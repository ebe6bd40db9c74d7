"""Reading what the rules decided for an order and which rule set versions were live."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Permission, Principal
from domain.records import RuleVersionRecord
from rules.explain import DecisionExplanation, explain
from services.access import require, require_order
from store import decisions


async def explain_order(who: Principal, db: AsyncEngine, order_id: str) -> list[DecisionExplanation]:
    """Every decision the order got, explained by the rule text of the version that made it,
    each followed by what came of it (a carrier booked or refused). Empty: none recorded."""
    require_order(who, Permission.ORDERS_READ, order_id)
    rows = await decisions.decisions_for_order(db, order_id)
    if not rows:
        return []
    followups = await decisions.followups_for_order(db, order_id)
    return explain(rows, await decisions.version_contents(db), followups)


async def versions(who: Principal, db: AsyncEngine, ruleset: str | None,
                   limit: int) -> list[RuleVersionRecord]:
    """The append-only rule-change log, newest first."""
    require(who, Permission.RULES_READ)
    return await decisions.list_versions(db, ruleset, max(1, min(limit, 1000)))
