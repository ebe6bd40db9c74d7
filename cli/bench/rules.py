"""`ordo bench --section rules`: decisions/s per rule set with 60 rules on durable_rules
(one call at a time as a worker decides, and in batches as `simulate` does) against the
reference evaluator in the same run; and `simulate` over 10,000 recorded orders in a
scratch SQLite database. (Sourcing has its own section, `cli/bench_sourcing.py`.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from config.settings import PROJECT_ROOT
from domain.rulesets import RULESETS, RulesetSpec
from rules.check import check_directory
from rules.engine import EngineProcess, LoadedRuleset, compile_loaded, epoch
from rules.format import RuleFile
from rules.reference import fired_rules
from rules.simulate import Simulator
from store import tables as t
from store.db import make_engine
from store.decisions import past_decisions
from store.migrate import migrate

RULE_COUNT = 60
FACTS_PER_SET = 2000
NOW = epoch(dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
PROVINCES = ["上海", "浙江", "江苏", "广东", "北京", "四川", "湖北", "新疆", "黑龙江", "山东"]


def _random_facts(spec: RulesetSpec, rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name, fact in spec.facts.items():
        if fact.type == "list":
            continue
        if fact.values:
            facts[name] = rng.choice(fact.values)
        elif fact.type == "int":
            facts[name] = rng.randrange(1, 500_000)
        elif fact.type == "bool":
            facts[name] = rng.random() < 0.3
        else:
            facts[name] = rng.choice(["tmall", "jd", "taobao", "pos", "text", "CNY"])
    if "lines" in spec.facts:
        facts["lines"] = [{"sku": rng.choice(["PHONE-X1", "COKE-330-24", "RICE-5KG"]),
                           "quantity": rng.randrange(1, 8), "temperature": rng.choice(["ambient", "chilled"])}
                          for _ in range(rng.randrange(1, 6))]
    return facts


def widened(rule_file: RuleFile, spec: RulesetSpec) -> RuleFile:
    """The shipped rules plus filler rules of the same shape (an enumerated fact and a
    threshold), up to RULE_COUNT: what a retailer's file looks like after a year."""
    enum_fact = next(n for n, f in spec.facts.items() if f.values)
    int_fact = next(n for n, f in spec.facts.items() if f.type == "int")
    values = spec.facts[enum_fact].values
    extra = [
        {"id": f"filler-{i}", "priority": 1000 + i,
         "when": [{"fact": enum_fact, "eq": values[i % len(values)]},
                  {"fact": int_fact, "gte": 997 * (i + 1)}],
         "then": {}}
        for i in range(RULE_COUNT - len(rule_file.rules))
    ]
    data = rule_file.model_dump(mode="json", by_alias=True, exclude={"examples"})
    data["rules"] += extra
    return RuleFile.model_validate(data)


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def _decisions(loaded: LoadedRuleset, cases: list[tuple[dict[str, Any], int]],
               engine: EngineProcess) -> dict[str, float]:
    started = time.perf_counter()
    for case in cases[:500]:  # as a worker calls it: one round trip per decision
        engine.fire(loaded, [case])
    one_by_one = _rate(500, time.perf_counter() - started)
    started = time.perf_counter()
    engine.fire(loaded, cases)
    batched = _rate(len(cases), time.perf_counter() - started)
    started = time.perf_counter()
    for facts, now in cases:
        fired_rules(loaded.rule_file, facts, now)
    reference = _rate(len(cases), time.perf_counter() - started)
    return {"durable_rules_per_call": one_by_one, "durable_rules_batched": batched, "reference": reference}


async def _simulate(loaded: dict[str, LoadedRuleset], engine: EngineProcess, scratch: Path,
                    orders: int, rng: random.Random) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{scratch}"
    await asyncio.to_thread(migrate, url)
    db = make_engine(url)
    try:
        names = sorted(loaded)
        async with db.begin() as conn:
            await conn.execute(t.orders.insert(), [
                {"order_id": f"bench-{i}", "workflow_id": f"order-bench-{i}", "channel": "bench",
                 "external_id": str(i), "customer_id": "c", "customer_tier": "regular", "status": "completed",
                 "total": 1, "currency": "CNY", "payload": {}} for i in range(orders)])
            rows = []
            for i in range(orders):
                for name in names:
                    facts = _random_facts(RULESETS[name], rng)
                    rows.append({"key": f"bench-{i}:{name}", "order_id": f"bench-{i}", "step": name,
                                 "ruleset": name, "version": "old", "fired": [], "facts": facts,
                                 "outcome": loaded[name].rule_file.default,
                                 "decided_at": dt.datetime.fromtimestamp(NOW, dt.UTC), "evaluator": "x"})
            await conn.execute(t.decisions.insert(), rows)
        simulator = Simulator(loaded, engine)
        started = time.perf_counter()
        async for batch in past_decisions(db, None, None):
            simulator.feed(batch)
        seconds = time.perf_counter() - started
        simulator.close()
    finally:
        await db.dispose()
    return {"orders": simulator.report.orders, "decisions": simulator.report.decisions,
            "seconds": round(seconds, 2), "orders_per_s": _rate(simulator.report.orders, seconds),
            "disagreements": simulator.report.disagreements}


def run_rules_bench(out_dir: Path, console: Console, simulate_orders: int = 10_000) -> dict[str, Any]:
    rng = random.Random(11)
    checked = check_directory(PROJECT_ROOT / "rules")
    shipped = {r.rule_file.ruleset: r.rule_file for r in checked if r.rule_file}
    loaded = {name: compile_loaded(widened(rf, RULESETS[name])) for name, rf in shipped.items()}
    engine = EngineProcess()
    result: dict[str, Any] = {"rules_per_set": RULE_COUNT, "decisions": {}}
    try:
        with console.status("rules: decisions per second..."):
            for name, lf in sorted(loaded.items()):
                cases = [(_random_facts(RULESETS[name], rng), NOW) for _ in range(FACTS_PER_SET)]
                engine.fire(lf, cases[:10])  # register the rule set before timing
                result["decisions"][name] = _decisions(lf, cases, engine)
        with console.status(f"rules: simulate over {simulate_orders} recorded orders..."):
            out_dir.mkdir(parents=True, exist_ok=True)
            scratch = out_dir / "simulate-bench.db"
            scratch.unlink(missing_ok=True)
            result["simulate"] = asyncio.run(_simulate(loaded, engine, scratch, simulate_orders, rng))
            scratch.unlink(missing_ok=True)
    finally:
        engine.close()
    table = Table(title=f"rules ({RULE_COUNT} rules per set), decisions/s")
    for col in ("rule set", "durable_rules per call", "durable_rules batched", "reference",
                "reference / per call"):
        table.add_column(col)
    for name, d in result["decisions"].items():
        table.add_row(name, str(d["durable_rules_per_call"]), str(d["durable_rules_batched"]),
                      str(d["reference"]), f"{d['reference'] / d['durable_rules_per_call']:.0f}x")
    console.print(table)
    s = result["simulate"]
    console.print(f"simulate: {s['orders']} orders, {s['decisions']} decisions in {s['seconds']} s "
                  f"({s['orders_per_s']} orders/s, {s['disagreements']} engine/reference disagreements)")
    return result
