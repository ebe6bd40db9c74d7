"""The durable_rules path agrees with the reference evaluator, survives its own crashes,
and keeps the last good version of a rule file that breaks."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.settings import PROJECT_ROOT
from rules.engine import RuleEngine, RuleEngineError, load_rule_file
from rules.reference import fired_rules

RULES = PROJECT_ROOT / "rules"

facts_strategy = st.fixed_dictionaries({
    "channel": st.sampled_from(["shopify", "tmall", "pos", "jd"]),
    "customer_tier": st.sampled_from(["regular", "silver", "gold", "platinum"]),
    "total_minor": st.integers(0, 1_000_000),
    "has_cold_chain": st.booleans(), "has_frozen": st.booleans(), "remote_area": st.booleans(),
    "lane": st.sampled_from(["express", "standard", "economy"]),
    "service": st.sampled_from(["standard", "cold_chain", "hazmat", "freight"]),
    "exception_type": st.sampled_from(["out_of_stock", "payment_declined", "invalid_address",
                                       "carrier_rejected", "sla_breach", "capture_failed", "other"]),
    "attempt": st.integers(1, 6), "partial_available": st.booleans(),
}, optional={"province": st.sampled_from(["上海", "新疆", "西藏"])})


@pytest.fixture(scope="module")
def engine() -> Any:
    eng = RuleEngine(RULES)
    yield eng
    eng.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=facts_strategy)
def test_engine_and_reference_fire_the_same_rules(engine: RuleEngine, facts: dict[str, Any]) -> None:
    for name in ("priority", "split", "carriers", "exceptions"):
        decision = engine.decide(name, facts)
        assert decision.fired == fired_rules(engine.ruleset(name).rule_file, facts), name


def test_first_hit_policy_takes_the_highest_priority_rule(engine: RuleEngine) -> None:
    d = engine.decide("priority", {"customer_tier": "gold", "has_cold_chain": True, "total_minor": 1})
    assert d.fired == ["vip-express", "perishables-fast"]
    assert d.outcome == {"lane": "express", "sla_hours": 12}
    assert d.version == engine.ruleset("priority").version


def test_a_crashed_engine_process_is_restarted(engine: RuleEngine) -> None:
    engine.decide("priority", {"customer_tier": "regular"})
    proc = engine._engine._proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGKILL)  # as a segfault in the C core would
    proc.wait()
    assert engine.decide("priority", {"customer_tier": "gold"}).outcome["lane"] == "express"
    assert engine._engine._proc is not None and engine._engine._proc.pid != proc.pid


def test_an_engine_error_is_reported_and_the_engine_keeps_serving(engine: RuleEngine) -> None:
    good = engine.ruleset("priority")
    broken = dataclasses.replace(good, engine_name="broken_1", definition={
        "r": {"all": [{"m": {"t": "priority"}}], "bogus": 1, "run": "r"}})
    with pytest.raises(RuleEngineError):
        engine._engine.evaluate(broken, {"t": "priority"})
    assert engine.decide("priority", {"customer_tier": "gold"}).fired == ["vip-express"]


def test_concurrent_callers_share_one_engine_safely(engine: RuleEngine) -> None:
    def one(i: int) -> str:
        tier = ["regular", "gold"][i % 2]
        return str(engine.decide("priority", {"customer_tier": tier, "total_minor": i}).outcome["lane"])

    with ThreadPoolExecutor(8) as pool:
        lanes = list(pool.map(one, range(3000)))
    assert lanes.count("express") == 1500  # every gold order; no regular order crosses 200000


def test_a_broken_file_is_rejected_and_the_last_good_version_kept(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    eng = RuleEngine(tmp_path / "rules", reload_interval=0)
    try:
        good = eng.ruleset("priority").version
        path = tmp_path / "rules" / "priority.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("priority: 10", "priority: ten", 1),
                        encoding="utf-8")
        os.utime(path, (1, 1))
        problems = eng.reload()
        assert problems and "priority.yaml" in problems[0] and "rules[0].priority" in problems[0]
        assert eng.ruleset("priority").version == good
    finally:
        eng.close()


def test_rule_files_load_and_name_unknown_fields(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text("ruleset: x\nrules:\n  - {id: a, priority: 1, then: {}, when: [{fact: f, big: 1}]}\n")
    with pytest.raises(Exception, match="rules\\[0\\].when\\[0\\]"):
        load_rule_file(bad)
