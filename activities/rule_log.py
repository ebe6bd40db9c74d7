"""Write rule set versions that went live into the append-only rule-change log.

The log, not the process, knows what was live before: a restarted worker that loads the
same files adds nothing, and the summary is a diff against the last logged version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.records import RuleVersionRecord
from rules.diff import diff_rulesets
from rules.engine import VersionChange
from rules.format import RuleFile
from store import decisions


async def log_changes(db: AsyncEngine, changes: list[VersionChange], audit_key: bytes | None = None) -> int:
    """Returns how many entries were appended; each also in the audit trail given its key."""
    appended = 0
    for change in changes:
        def entry(latest: RuleVersionRecord | None, change: VersionChange = change) -> dict[str, Any]:
            before = RuleFile.model_validate(latest.content) if latest else None
            return {"loaded_at": change.loaded_at, "loaded_by": change.loaded_by, "source": change.source,
                    "summary": diff_rulesets(before, RuleFile.model_validate(change.content)).summary(),
                    "content": change.content}

        appended += await decisions.log_version(db, change.ruleset, change.version, entry, audit_key)
    return appended
