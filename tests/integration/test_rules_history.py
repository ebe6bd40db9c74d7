"""Decisions and rule versions in the database: `explain` reads last week's rules for last
week's order, `simulate` re-decides history with candidate rules, the change log is served
by the API. Runs on SQLite and, in CI, PostgreSQL; the commands run as real processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

from activities.rule_log import log_changes
from api.app import create_app
from config.keys import audit_key
from config.settings import PROJECT_ROOT, Settings
from domain.messages import Quote
from domain.rulesets import PriorityOutcome
from rules.check import check_directory
from rules.engine import EngineProcess, RuleEngine, compile_loaded
from rules.explain import explain
from rules.simulate import Simulator
from store import audit, decisions, orders
from store.db import make_engine
from tests.factories import make_order
from tests.harness import auth_headers, prepare_database, serve_app

RULES = PROJECT_ROOT / "rules"
PEAK = dt.datetime(2026, 11, 11, 4, tzinfo=dt.UTC)  # noon in Shanghai on Singles' Day
LATER = dt.datetime(2026, 11, 20, 4, tzinfo=dt.UTC)

# order id -> (tier, total in fen): what the candidate's lower big-basket threshold touches
ORDERS = {"mid-1": ("regular", 150_000), "mid-2": ("regular", 150_000), "mid-3": ("silver", 120_000),
          "gold-mid": ("gold", 150_000), "small-1": ("regular", 50_000),
          "small-2": ("regular", 50_000)}
QUOTES = [Quote(carrier="sf", service="standard", fee="20.00", transit_days=1, eligible=True),
          Quote(carrier="zto", service="standard", fee="8.00", transit_days=4, eligible=True),
          Quote(carrier="jd", service="standard", fee="5.00", transit_days=1, eligible=False,
                reason="coverage")]


def facts_for(tier: str, total: int) -> dict[str, Any]:
    return {"channel": "tmall", "customer_tier": tier, "total_minor": total, "payment_method": "alipay",
            "region": "south", "remote_area": False, "has_cold_chain": False, "has_oversize": False,
            "lines": [{"sku": "RICE-5KG", "quantity": 1, "temperature": "ambient"}]}


async def record_history(url: str, rules_dir: Path) -> None:
    """What a worker would have written: orders, the versions it loaded, its decisions."""
    db = make_engine(url)
    engine = RuleEngine(rules_dir)
    try:
        await log_changes(db, engine.take_changes())
        for i, (ext, (tier, total)) in enumerate(ORDERS.items()):
            order = make_order(ext, channel="tmall", tier=tier)
            await orders.save_order(db, order)
            at = PEAK if i % 2 else LATER
            d = engine.decide("priority", facts_for(tier, total), "priority", at=at)
            await decisions.record_decision(db, order.order_id, f"{order.order_id}:0:priority", d)
            parcel = {"lane": d.outcome_as(PriorityOutcome).lane, "service": "standard", "remote_area": False,
                      "customer_tier": tier, "weight_g": 5000, "total_minor": total,
                      "quotes": [q.model_dump(mode="json") for q in QUOTES]}
            c = engine.decide("carriers", parcel, "carrier:p1", at=at)
            await decisions.record_decision(db, order.order_id, f"{order.order_id}:p1:carriers", c)
    finally:
        engine.close()
        await db.dispose()


def candidate_dir(tmp_path: Path) -> Path:
    """Big baskets from 1,000 yuan instead of 2,000; economy parcels by balanced cost."""
    target = tmp_path / "candidate"
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    p = target / "priority.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("gte: 200000", "gte: 100000"), encoding="utf-8")
    c = target / "carriers.yaml"
    c.write_text(c.read_text(encoding="utf-8").replace("default: {strategy: balanced, day_value: 5,",
                                                       "default: {strategy: cheapest, day_value: 5,"),
                 encoding="utf-8")
    return target


async def test_explain_uses_the_logged_version_and_names_the_first_failed_condition(
        db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    await record_history(db_url, RULES)
    db = make_engine(db_url)
    try:
        rows = await decisions.decisions_for_order(db, "tmall-gold-mid")
        contents = await decisions.version_contents(db)
    finally:
        await db.dispose()
    priority, carrier = explain(rows, contents)
    [shipped] = [r.rule_file for r in check_directory(RULES)
                 if r.rule_file and r.rule_file.ruleset == "priority"]
    assert priority.version == compile_loaded(shipped).version
    assert [v.rule for v in priority.fired] == ["vip-gold", "singles-day-peak"]  # decided on Singles' Day
    assert priority.outcome["lane"] == "express" and priority.facts["total_minor"] == 150_000
    not_fired = {v.rule: v.failed for v in priority.not_fired}
    assert not_fired["big-basket"] == "total_minor gte 200000"
    assert not_fired["singles-day-platinum"] == "customer_tier eq 'platinum'"
    assert carrier.ruleset == "carriers" and carrier.note == ""
    assert [v.rule for v in carrier.fired] == ["express-lane-time-first", "singles-day-time-cheap"]

    db = make_engine(db_url)
    try:
        later = explain(await decisions.decisions_for_order(db, "tmall-mid-1"), contents)[0]
    finally:
        await db.dispose()
    assert {v.rule: v.failed for v in later.not_fired}["singles-day-peak"].startswith("not in effect")


async def test_simulate_reports_each_changed_decision_with_samples(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    await record_history(db_url, RULES)
    candidate = {r.rule_file.ruleset: compile_loaded(r.rule_file)
                 for r in check_directory(candidate_dir(tmp_path)) if r.rule_file}
    db = make_engine(db_url)
    engine = EngineProcess()
    try:
        sim = Simulator(candidate, engine)
        async for rows in decisions.past_decisions(db, None, None, batch=4):
            sim.feed(rows)
        sim.close()
    finally:
        engine.close()
        await db.dispose()
    report = sim.report.as_json()
    assert (report["orders"], report["decisions"], report["engine_reference_disagreements"]) == (6, 12, 0)
    changes = {(c["ruleset"], c["change"]): (c["count"], sorted(c["samples"])) for c in report["changes"]}
    assert changes == {
        ("priority", "lane: standard -> express; sla_hours: 48 -> 24"): (1, ["tmall-mid-1"]),
        ("priority", "lane: standard -> express; sla_hours: 72 -> 24"): (1, ["tmall-mid-2"]),  # peak promise
        ("priority", "lane: standard -> express; sla_hours: 36 -> 24"): (1, ["tmall-mid-3"]),  # silver
        # standard lane: balanced chose sf (20 + 1 day x 5) over zto (8 + 4 x 5); cheapest takes zto
        ("carriers", "strategy: balanced -> cheapest; carrier: sf -> zto"):
            (3, ["tmall-mid-1", "tmall-mid-3", "tmall-small-1"]),
        # on Singles' Day a day was worth 2 yuan, so balanced already chose zto
        ("carriers", "strategy: balanced -> cheapest"): (2, ["tmall-mid-2", "tmall-small-2"]),
    }
    assert report["by_ruleset"] == {"carriers": {"decisions": 6, "changed": 5},
                                    "priority": {"decisions": 6, "changed": 3}}


async def run_ordo(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", *args, cwd=PROJECT_ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_commands_and_the_api_over_a_real_database(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    await record_history(db_url, RULES)
    env = {"ORDO_DATABASE_URL": db_url, "ORDO_VAR_DIR": str(tmp_path / "var")}

    candidate = str(candidate_dir(tmp_path))
    code, out, _ = await run_ordo("rules", "simulate", "--candidate", candidate, "--json",
                                  "--since", "2026-01-01", env=env)
    assert code == 0, out
    report = json.loads(out)
    assert (report["orders"], report["decisions"], report["changed"]) == (6, 12, 8)
    code, out, _ = await run_ordo("rules", "simulate", "--candidate", candidate, "--json", "--limit", "2",
                                  env=env)
    assert code == 0 and json.loads(out)["orders"] == 2

    code, out, _ = await run_ordo("rules", "explain", "tmall-mid-1", "--json", env=env)
    assert code == 0
    steps = json.loads(out)
    assert [s["ruleset"] for s in steps] == ["priority", "carriers"]
    assert {v["rule"]: v["failed"] for v in steps[0]["not_fired"]}["big-basket"] == "total_minor gte 200000"
    code, _, err = await run_ordo("rules", "explain", "tmall-nope", env=env)
    assert code == 1 and "no decisions recorded for order 'tmall-nope'" in err

    broken = candidate_dir(tmp_path / "b")
    (broken / "split.yaml").write_text("ruleset: split\nrules: [{id: x}]\n", encoding="utf-8")
    code, _, err = await run_ordo("rules", "simulate", "--candidate", str(broken), env=env)
    assert code == 1 and "split.yaml:2:" in err and "missing field 'priority'" in err

    settings = Settings(database_url=db_url, var_dir=tmp_path / "var")
    async with serve_app(create_app(settings)) as api, \
            httpx.AsyncClient(headers=await auth_headers(settings)) as http:
        body = (await http.get(f"{api}/v1/rules/versions")).json()
        sets = sorted(v["ruleset"] for v in body["versions"])
        assert sets == ["carriers", "exceptions", "priority", "returns", "split", "transfers"]
        assert all(v["summary"] == "rule set added" and "content" not in v for v in body["versions"])
        one = (await http.get(f"{api}/v1/rules/versions",
                              params={"ruleset": "priority", "content": "true"})).json()
        [entry] = one["versions"]
        assert entry["content"]["rules"][0]["id"] == "fraud-cod-high-value" and entry["seq"] == 1


async def test_each_rule_version_going_live_is_in_the_audit_trail(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    db = make_engine(db_url)
    engine = RuleEngine(PROJECT_ROOT / "rules")
    key = audit_key(tmp_path)
    try:
        changes = engine.take_changes()
        assert await log_changes(db, changes, key) == len(changes) > 0
        assert await log_changes(db, changes, key) == 0  # already live: no second row either
        async with db.connect() as conn:
            rows = await audit.entries(conn, action="rules.version_live", limit=100)
            check = await audit.verify(conn, key)
        assert sorted(r.target for r in rows) == sorted(f"{c.ruleset}@{c.version}" for c in changes)
        assert check.ok and check.checked == len(changes)
    finally:
        engine.close()
        await db.dispose()
