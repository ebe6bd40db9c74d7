"""The durable_rules path agrees with the reference evaluator (on the shipped files and on
generated rule files), survives its own crashes, serialises callers from a thread pool,
and keeps the last good version of a rule file that breaks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import shutil
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from config.settings import PROJECT_ROOT
from domain.exceptions import ExceptionAction
from domain.rulesets import RULESETS, ExceptionOutcome, PriorityOutcome
from rules.compiler import TooComplex
from rules.engine import EngineProcess, RuleEngine, RuleEngineError, compile_loaded, epoch
from rules.format import RuleFile
from rules.reference import fired_rules

RULES = PROJECT_ROOT / "rules"
NOW = epoch(dt.datetime(2026, 11, 27, tzinfo=dt.UTC))

line_strategy = st.fixed_dictionaries({}, optional={
    "sku": st.sampled_from(["PHONE-X1", "COKE-330-24", "LAPTOP-14", "RICE-5KG", "SALMON-500"]),
    "quantity": st.integers(0, 30), "weight_g": st.integers(0, 40_000),
    "temperature": st.sampled_from(["ambient", "chilled", "frozen"]),
    "hazmat": st.booleans(), "oversize": st.booleans(),
})

facts_strategy = st.fixed_dictionaries({
    "channel": st.sampled_from(["shopify", "tmall", "pos", "jd", "text", "taobao"]),
    "customer_tier": st.sampled_from(["regular", "silver", "gold", "platinum"]),
    "total_minor": st.integers(0, 1_000_000),
    "lane": st.sampled_from(["express", "standard", "economy"]),
    "service": st.sampled_from(["standard", "cold_chain", "hazmat", "freight"]),
    "exception_type": st.sampled_from(["out_of_stock", "payment_declined", "invalid_address", "fraud_review",
                                       "carrier_rejected", "sla_breach", "capture_failed", "other"]),
    "attempt": st.integers(1, 8),
}, optional={
    "province": st.sampled_from(["上海", "新疆", "西藏"]),
    "region": st.sampled_from(["east", "north", "south", "southwest", "northwest"]),
    "has_cold_chain": st.booleans(), "has_frozen": st.booleans(), "remote_area": st.booleans(),
    "has_oversize": st.booleans(), "hazmat": st.booleans(), "partial_available": st.booleans(),
    "payment_method": st.sampled_from(["alipay", "wechat", "cod"]),
    "weight_g": st.integers(0, 40_000), "amount_minor": st.integers(0, 2_000_000),
    "lines": st.lists(line_strategy, max_size=6),
})
# around Singles' Day, so effective dates are exercised on both sides
instants = st.integers(epoch(dt.datetime(2026, 11, 8, tzinfo=dt.UTC)),
                       epoch(dt.datetime(2026, 11, 16, tzinfo=dt.UTC)))


@pytest.fixture(scope="module")
def engine() -> Any:
    eng = RuleEngine(RULES)
    yield eng
    eng.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=facts_strategy, now=instants)
def test_shipped_rule_files_fire_the_same_rules_on_both_evaluators(
        engine: RuleEngine, facts: dict[str, Any], now: int) -> None:
    at = dt.datetime.fromtimestamp(now, dt.UTC)
    for name in RULESETS:
        decision = engine.decide(name, facts, at=at)
        assert decision.fired == fired_rules(engine.ruleset(name).rule_file, facts, now), name
        assert decision.evaluator == "durable_rules"


# ---- generated rule files: every operator, group and effective window ---------------

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "total_minor": st.integers(0, 1_000_000), "attempt": st.integers(0, 8),
    "channel": st.sampled_from(["tmall", "jd", "pos"]), "remote_area": st.booleans(),
}
LINE_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "quantity": st.integers(0, 30), "temperature": st.sampled_from(["ambient", "chilled", "frozen"]),
    "hazmat": st.booleans(), "sku": st.sampled_from(["PHONE-X1", "COKE-330-24", "RICE-5KG"]),
}


@st.composite
def simple_condition(draw: st.DrawFn, vocabulary: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    fact = draw(st.sampled_from(sorted(vocabulary)))
    value = vocabulary[fact]
    sample = draw(value)
    ops = ["eq", "ne", "in", "not_in", "exists"]
    if isinstance(sample, int) and not isinstance(sample, bool):
        ops += ["gt", "gte", "lt", "lte"]
    if isinstance(sample, str):
        ops.append("matches")
    op = draw(st.sampled_from(ops))
    if op in ("in", "not_in"):
        return {"fact": fact, op: draw(st.lists(value, min_size=1, max_size=3))}
    if op == "exists":
        return {"fact": fact, "exists": draw(st.booleans())}
    if op == "matches":
        patterns = ["PHONE-.*", "(COKE|RICE)-.*", "t.*", ".*a.*"]
        return {"fact": fact, "matches": draw(st.sampled_from(patterns))}
    return {"fact": fact, op: sample}


@st.composite
def condition(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    kind = draw(st.sampled_from(["simple", "simple", "any", "all", "any_line", "all_lines"]
                                if depth == 0 else ["simple", "simple", "any"]))
    if kind == "simple":
        return draw(simple_condition(SCALARS))
    if kind in ("any_line", "all_lines"):
        return {kind: draw(st.lists(simple_condition(LINE_SCALARS), min_size=1, max_size=3))}
    return {kind: draw(st.lists(condition(depth + 1), min_size=1, max_size=3))}


@st.composite
def rule_files(draw: st.DrawFn) -> RuleFile:
    rules = []
    for i in range(draw(st.integers(1, 8))):
        rule: dict[str, Any] = {"id": f"r{i}", "priority": draw(st.integers(0, 20)),
                                "when": draw(st.lists(condition(), max_size=3)), "then": {"k": i}}
        if draw(st.booleans()):
            rule["effective_from"] = draw(st.sampled_from(["2026-11-10", "2026-11-11T12:00:00+08:00"]))
        if draw(st.booleans()):
            rule["effective_until"] = "2026-11-13"
        rules.append(rule)
    policy = draw(st.sampled_from(["first", "collect"]))
    return RuleFile.model_validate({"ruleset": "generated", "hit_policy": policy, "rules": rules})


@pytest.fixture(scope="module")
def process() -> Any:
    proc = EngineProcess()
    yield proc
    proc.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule_file=rule_files(), cases=st.lists(st.tuples(facts_strategy, instants), min_size=1, max_size=8))
def test_generated_rule_files_fire_the_same_rules_on_both_evaluators(
        process: EngineProcess, rule_file: RuleFile, cases: list[tuple[dict[str, Any], int]]) -> None:
    try:
        loaded = compile_loaded(rule_file)
    except TooComplex:  # refused by `check` with a message; nothing to evaluate
        assume(False)
        return
    for (facts, now), (fired, evaluator) in zip(cases, process.fire(loaded, cases), strict=True):
        assert evaluator == "durable_rules"
        assert fired == fired_rules(rule_file, facts, now), (facts, now)


def test_a_fact_beyond_the_engines_property_limit_is_decided_by_the_reference(process: EngineProcess) -> None:
    rule_file = RuleFile.model_validate({"ruleset": "split", "rules": [
        {"id": "frozen", "priority": 1, "when": [{"any_line": [{"fact": "temperature", "eq": "frozen"}]}],
         "then": {"max_parcel_weight_g": 1}}]})
    loaded = compile_loaded(rule_file)
    small = {"lines": [{"temperature": "ambient", "sku": "A"}, {"temperature": "frozen", "sku": "B"}]}
    huge = {"lines": [{"temperature": "ambient"}] * 260 + [{"temperature": "frozen"}]}
    [(fired_small, ev_small), (fired_huge, ev_huge)] = process.fire(loaded, [(small, NOW), (huge, NOW)])
    assert (fired_small, ev_small) == (["frozen"], "durable_rules")
    assert (fired_huge, ev_huge) == (["frozen"], "reference")


def test_collect_merges_higher_priority_over_lower_and_first_takes_one(engine: RuleEngine) -> None:
    d = engine.decide("priority", {"customer_tier": "gold", "has_cold_chain": True, "total_minor": 1,
                                   "payment_method": "alipay"})
    assert d.fired == ["vip-gold", "perishables-fast", "small-basket-economy"]
    assert d.outcome.model_dump() == {"lane": "express", "sla_hours": 24, "review": "",
                                      "unpaid_hold_minutes": 30}
    e = engine.decide("exceptions", {"exception_type": "out_of_stock", "attempt": 4,
                                     "customer_tier": "gold", "partial_available": True})
    assert e.fired[0] == "backorder-vip-operator"
    assert e.outcome_as(ExceptionOutcome).action == ExceptionAction.HOLD
    assert e.version == engine.ruleset("exceptions").version


def test_a_crashed_engine_process_is_restarted(engine: RuleEngine) -> None:
    engine.decide("priority", {"customer_tier": "regular"})
    proc = engine._engine._proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGKILL)  # as a segfault in the C core would
    proc.wait()
    assert engine.decide("priority", {"customer_tier": "gold"}).outcome_as(PriorityOutcome).lane == "express"
    assert engine._engine._proc is not None and engine._engine._proc.pid != proc.pid


def test_an_engine_error_is_reported_and_the_engine_keeps_serving(engine: RuleEngine) -> None:
    good = engine.ruleset("priority")
    broken = dataclasses.replace(good, engine_name="broken_1", definition={
        "r": {"all": [{"m": {"t": "priority"}}], "bogus": 1, "run": "r"}})
    with pytest.raises(RuleEngineError):
        engine._engine.fire(broken, [({}, NOW)])
    assert engine.decide("priority", {"customer_tier": "gold"}).fired == ["vip-gold"]


def test_stress_tens_of_thousands_of_evaluations_from_a_thread_pool(engine: RuleEngine) -> None:
    """As the worker calls it: many threads, one engine process, every ruleset; each answer
    checked against the reference, and the engine's live states never pile up."""
    rng = random.Random(7)
    names = list(RULESETS)

    def random_facts() -> dict[str, Any]:
        return {
            "channel": rng.choice(["tmall", "jd", "pos", "text"]), "total_minor": rng.randrange(1_000_000),
            "customer_tier": rng.choice(["regular", "silver", "gold", "platinum"]),
            "payment_method": rng.choice(["alipay", "cod"]), "remote_area": rng.random() < 0.2,
            "has_cold_chain": rng.random() < 0.3, "has_frozen": rng.random() < 0.1,
            "lane": rng.choice(["express", "standard", "economy"]), "attempt": rng.randrange(1, 8),
            "exception_type": rng.choice(["out_of_stock", "payment_declined", "fraud_review"]),
            "service": rng.choice(["standard", "cold_chain"]), "weight_g": rng.randrange(40_000),
            "lines": [{"sku": rng.choice(["PHONE-X1", "COKE-330-24"]), "quantity": rng.randrange(1, 9),
                       "temperature": rng.choice(["ambient", "chilled"])}
                      for _ in range(rng.randrange(1, 4))],
        }

    cases = [(names[i % len(names)], random_facts()) for i in range(20_000)]

    def one(case: tuple[str, dict[str, Any]]) -> bool:
        name, facts = case
        at = dt.datetime(2026, 11, 11, 12, tzinfo=dt.UTC)
        d = engine.decide(name, facts, at=at)
        return d.fired == fired_rules(engine.ruleset(name).rule_file, facts, epoch(at))

    with ThreadPoolExecutor(16) as pool:
        agreed = list(pool.map(one, cases))
    assert len(agreed) == 20_000 and all(agreed)


def test_a_broken_file_is_refused_the_last_good_version_kept_and_the_fix_logged(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    eng = RuleEngine(tmp_path / "rules", reload_interval=0)
    try:
        assert {c.ruleset for c in eng.take_changes()} == set(RULESETS)
        good = eng.ruleset("priority").version
        path = tmp_path / "rules" / "priority.yaml"
        original = path.read_text(encoding="utf-8")
        path.write_text(original.replace("{fact: customer_tier, eq: gold}", "{fact: tier, eq: gold}"),
                        encoding="utf-8")
        problems = eng.reload()
        assert [str(p) for p in problems] == [
            f"{path}:50:16: rule 'vip-gold': unknown fact 'tier': this rule set has no such fact "
            f"(did you mean 'customer_tier'?); known: {', '.join(sorted(RULESETS['priority'].facts))}"]
        assert eng.ruleset("priority").version == good
        assert eng.decide("priority", {"customer_tier": "gold"}).outcome_as(PriorityOutcome).lane == "express"
        assert eng.take_changes() == []

        gold_20h = original.replace("sla_hours: 24}\n  - id: perishables",
                                    "sla_hours: 20}\n  - id: perishables")
        path.write_text(gold_20h, encoding="utf-8")
        eng.reload()
        [change] = eng.take_changes()
        assert change.previous_version == good and change.version != good
        assert change.summary == "1 changed (vip-gold)"
        assert eng.decide("priority", {"customer_tier": "gold"}).outcome_as(PriorityOutcome).sla_hours == 20
    finally:
        eng.close()
