"""Write rule set versions that went live into the append-only rule-change log.

The log, not the process, knows what was live before: a restarted worker that loads the
same files adds nothing, and the summary is a diff against the last logged version.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rules.diff import diff_rulesets
from rules.engine import VersionChange
from rules.format import RuleFile
from store import decisions


async def log_changes(db: AsyncEngine, changes: list[VersionChange], audit_key: bytes | None = None) -> int:
    """Returns how many entries were appended; each also in the audit trail given its key."""
    appended = 0
    for change in changes:
        for _ in range(5):  # lost the race for the next sequence number: look again
            latest = await decisions.latest_version(db, change.ruleset)
            if latest is not None and latest.version == change.version:
                break
            before = RuleFile.model_validate(latest.content) if latest else None
            after = RuleFile.model_validate(change.content)
            if await decisions.append_version(db, {
                "ruleset": change.ruleset, "seq": (latest.seq + 1) if latest else 1,
                "version": change.version, "previous_version": latest.version if latest else None,
                "loaded_at": change.loaded_at, "loaded_by": change.loaded_by, "source": change.source,
                "summary": diff_rulesets(before, after).summary(), "content": change.content,
            }, audit_key):
                appended += 1
                break
    return appended
