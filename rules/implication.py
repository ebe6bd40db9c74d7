"""Does one rule's `when` guarantee another's? Used to find rules that can never decide.

Sound but incomplete: when it says "implies" that is certain; it may miss implications
that need arithmetic across facts. A missed one only means `check` stays silent.
"""

from __future__ import annotations

from rules.format import Condition, Rule
from rules.reference import holds


def _simple_implies(b: Condition, a: Condition) -> bool:
    if b.fact != a.fact:
        return False
    b_op, a_op = b.operator(), a.operator()
    bv, av = b.value_of(b_op or ""), a.value_of(a_op or "")
    fact = b.fact or ""
    if a_op == "exists":
        return bool(av) and not (b_op == "exists" and not bv)
    if b_op == "eq":
        return holds(a, {fact: bv})
    if b_op == "in":
        return all(holds(a, {fact: v}) for v in bv)
    if b_op in ("gt", "gte") and a_op in ("gt", "gte"):
        return bool(bv > av or (bv == av and (a_op == "gte" or b_op == "gt")))
    if b_op in ("lt", "lte") and a_op in ("lt", "lte"):
        return bool(bv < av or (bv == av and (a_op == "lte" or b_op == "lt")))
    excluded = {bv} if b_op == "ne" else set(bv) if b_op == "not_in" else None
    if excluded is not None:
        if a_op == "ne":
            return av in excluded
        if a_op == "not_in":
            return set(av) <= excluded
    return False


def implies(b: Condition, a: Condition) -> bool:
    """Whenever `b` holds, `a` holds."""
    if b == a:
        return True
    a_group, b_group = a.group(), b.group()
    if a_group is not None and a_group[0] == "any":
        return any(implies(b, m) for m in a_group[1])
    if a_group is not None and a_group[0] == "all":
        return all(implies(b, m) for m in a_group[1])
    if b_group is not None and b_group[0] == "all":
        return any(implies(m, a) for m in b_group[1])
    if b_group is not None and b_group[0] == "any":
        return all(implies(m, a) for m in b_group[1])
    if a_group is not None or b_group is not None:
        return False  # line groups: only identical ones are known to imply
    return _simple_implies(b, a)


def rule_implies(b: Rule, a: Rule) -> bool:
    """Every order `b` matches, `a` matches too (in `b`'s whole effective window)."""
    b_start, b_end = b.window()
    a_start, a_end = a.window()
    if a_start is not None and (b_start is None or b_start < a_start):
        return False
    if a_end is not None and (b_end is None or b_end > a_end):
        return False
    return all(any(implies(bc, ac) for bc in b.when) for ac in a.when)
