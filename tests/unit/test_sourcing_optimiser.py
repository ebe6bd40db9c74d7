"""The sourcing optimiser: hard constraints always hold (hypothesis), and the rules' order of
objectives decides between plans (golden cases)."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.geo import region_of
from domain.messages import Allocation, LineFacts
from domain.model import Carrier, Temperature, Warehouse, ZoneRate
from domain.sourcing import SourcingPolicy, plan_sourcing
from domain.splitting import split_into_shipments
from tests.factories import sourcing, split_rules

PROVINCES = ["上海", "浙江", "广东", "北京", "四川", "新疆", "湖北"]


def wh(code: str, province: str, cold: bool = False) -> Warehouse:
    return Warehouse(code=code, name=code, province=province, city=province, cold_chain=cold)


def ln(no: int, sku: str, qty: int, temp: Temperature = Temperature.AMBIENT, unit_g: int = 1000,
       hazmat: bool = False, oversize: bool = False) -> LineFacts:
    return LineFacts(line_no=no, sku=sku, quantity=qty, weight_g=unit_g * qty, temperature=temp,
                     hazmat=hazmat, oversize=oversize)


def carrier(local: str, regional: str, national: str, extra: str = "2") -> Carrier:
    def rate(first: str) -> ZoneRate:
        return ZoneRate(first_kg=Decimal(first), additional_kg=Decimal(extra), transit_days=2)

    return Carrier(code="C", name="C", services=["standard", "express", "cold_chain", "freight"], hazmat=True,
                   max_weight_g=100_000,
                   rates={"local": rate(local), "regional": rate(regional), "national": rate(national),
                          "remote": rate(national)})


# ---- golden cases: the objective order ---------------------------------------------

SH, HZ, BJ = wh("SH-01", "上海"), wh("HZ-01", "浙江"), wh("BJ-01", "北京")
TWO_LINES = [ln(0, "A", 1), ln(1, "B", 1)]
SPLIT_STOCK = {("A", "SH-01"): 5, ("B", "HZ-01"): 5, ("A", "BJ-01"): 5, ("B", "BJ-01"): 5}


def sources(allocations: list[Allocation]) -> set[str]:
    return {a.warehouse for a in allocations}


def test_fewest_shipments_first_takes_one_far_warehouse_over_two_near() -> None:
    plan = plan_sourcing(TWO_LINES, SPLIT_STOCK, [SH, HZ, BJ], "上海", sourcing())
    assert sources(plan.allocations) == {"BJ-01"} and not plan.shortages


def test_distance_first_takes_two_near_warehouses_over_one_far() -> None:
    policy = sourcing(prefer=["distance", "shipments", "cost"])
    plan = plan_sourcing(TWO_LINES, SPLIT_STOCK, [SH, HZ, BJ], "上海", policy)
    assert sources(plan.allocations) == {"SH-01", "HZ-01"}


def test_cost_first_follows_the_quotes_even_against_distance() -> None:
    lines = [ln(0, "A", 1)]
    stock = {("A", "SH-01"): 1, ("A", "BJ-01"): 1}
    city_courier = carrier(local="30", regional="12", national="15")  # same-city is dear
    by_cost = plan_sourcing(lines, stock, [SH, BJ], "上海", sourcing(prefer=["cost"]), [city_courier])
    by_distance = plan_sourcing(lines, stock, [SH, BJ], "上海",
                                sourcing(prefer=["distance"]), [city_courier])
    assert sources(by_cost.allocations) == {"BJ-01"}
    assert sources(by_distance.allocations) == {"SH-01"}


def test_covering_the_order_comes_before_every_objective_and_lines_stay_whole() -> None:
    """Distance first, yet the nearest warehouse (3 of 4) loses to one that has all 4: a
    line is not split when one warehouse can serve it whole."""
    plan = plan_sourcing([ln(0, "A", 4)], {("A", "SH-01"): 3, ("A", "HZ-01"): 4}, [SH, HZ], "上海",
                         sourcing(prefer=["distance"]))
    assert [(a.warehouse, a.quantity) for a in plan.allocations] == [("HZ-01", 4)]


def test_ties_break_the_same_way_whatever_order_the_warehouses_come_in() -> None:
    twins = [wh("GZ-02", "广东"), wh("GZ-01", "广东"), wh("GZ-03", "广东")]
    stock = {("A", w.code): 3 for w in twins}
    plans = set()
    for seed in range(6):
        shuffled = twins[:]
        random.Random(seed).shuffle(shuffled)
        plan = plan_sourcing([ln(0, "A", 2)], stock, shuffled, "广东", sourcing())
        plans.add(tuple((a.warehouse, a.quantity) for a in plan.allocations))
    assert plans == {(("GZ-01", 2),)}


def test_max_shipments_one_reports_a_shortage_rather_than_a_second_warehouse() -> None:
    plan = plan_sourcing(TWO_LINES, {("A", "SH-01"): 1, ("B", "HZ-01"): 1}, [SH, HZ], "上海",
                         sourcing(max_shipments=1))
    assert len(sources(plan.allocations)) == 1
    assert sum(s.missing for s in plan.shortages) == 1


def test_home_region_only_waits_or_looks_further_as_the_rules_say() -> None:
    stock = {("A", "BJ-01"): 4}
    wait = plan_sourcing([ln(0, "A", 2)], stock, [SH, BJ], "上海", sourcing(home_region_only=True))
    assert wait.allocations == [] and wait.shortages[0].missing == 2
    wider = plan_sourcing([ln(0, "A", 2)], stock, [SH, BJ], "上海",
                          sourcing(home_region_only=True, on_shortage="other_region"))
    assert sources(wider.allocations) == {"BJ-01"} and not wider.shortages


def test_policy_comes_from_the_split_outcome_with_unnamed_objectives_last() -> None:
    policy = SourcingPolicy.from_outcome(split_rules(prefer=["cost"], max_shipments=2, on_shortage="wait"))
    assert policy.prefer == ("cost", "shipments", "distance") and policy.max_shipments == 2


# ---- hypothesis: hard constraints for any order and any stock ------------------------

Situation = tuple[list[LineFacts], dict[tuple[str, str], int], list[Warehouse], str, SourcingPolicy]


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    warehouses = [wh(f"W{i}", draw(st.sampled_from(PROVINCES)), draw(st.booleans()))
                  for i in range(draw(st.integers(1, 6)))]
    skus = [f"S{i}" for i in range(draw(st.integers(1, 4)))]
    kind = {sku: (draw(st.sampled_from(list(Temperature))), draw(st.integers(100, 12_000)),
                  draw(st.booleans()), draw(st.booleans())) for sku in skus}  # a SKU is one kind of goods
    lines = []
    for i in range(draw(st.integers(1, 5))):
        sku = draw(st.sampled_from(skus))
        temp, unit_g, hazmat, oversize = kind[sku]
        lines.append(ln(i, sku, draw(st.integers(1, 6)), temp, unit_g, hazmat=hazmat, oversize=oversize))
    stock = {(s, w.code): draw(st.integers(0, 8)) for s in skus for w in warehouses}
    policy = sourcing(
        max_shipments=draw(st.integers(1, 4)),
        prefer=list(draw(st.permutations(["shipments", "distance", "cost"]))),
        home_region_only=draw(st.booleans()),
        on_shortage=draw(st.sampled_from(["wait", "ship_available", "other_region"])),
        separate_cold_chain=draw(st.booleans()), separate_hazmat=draw(st.booleans()),
        oversize_by_freight=draw(st.booleans()), max_parcel_weight_g=draw(st.integers(1_000, 30_000)),
    )
    return lines, stock, warehouses, draw(st.sampled_from(PROVINCES)), policy


@settings(max_examples=400, deadline=None)
@given(situations())
def test_every_plan_respects_every_hard_constraint(case: Situation) -> None:
    lines, stock, warehouses, destination, policy = case
    plan = plan_sourcing(lines, stock, warehouses, destination, policy, [carrier("8", "10", "12")])
    by_code = {w.code: w for w in warehouses}
    goods = {x.sku: x for x in lines}

    taken: dict[tuple[str, str], int] = {}
    for a in plan.allocations:
        assert a.quantity > 0
        taken[(a.sku, a.warehouse)] = taken.get((a.sku, a.warehouse), 0) + a.quantity
        if goods[a.sku].temperature != Temperature.AMBIENT:
            assert by_code[a.warehouse].cold_chain, "cold-chain line from an ambient warehouse"
    assert all(q <= stock.get(k, 0) for k, q in taken.items()), "allocated more than available"

    for x in lines:  # every unit is either allocated or reported short
        got = sum(a.quantity for a in plan.allocations if a.line_no == x.line_no)
        missing = sum(s.missing for s in plan.shortages if s.line_no == x.line_no)
        assert got + missing == x.quantity

    used = {a.warehouse for a in plan.allocations}
    assert len(used) <= policy.max_shipments
    home = [w for w in warehouses if region_of(w.province) == region_of(destination)]
    if policy.home_region_only and policy.on_shortage != "other_region":
        assert used <= {w.code for w in home}

    parcels = split_into_shipments("o", plan.allocations, lines, policy.split)
    limit = policy.split.max_parcel_weight_g
    for p in parcels:
        items = [goods[pl.sku] for pl in p.lines]
        assert p.weight_g <= limit or sum(pl.quantity for pl in p.lines) == 1, "parcel over the weight limit"
        if policy.split.separate_hazmat:
            assert all(x.hazmat for x in items) == (p.service == "hazmat")
            assert p.service == "hazmat" or not any(x.hazmat for x in items), "hazmat travelling with others"
        if p.service == "hazmat":
            continue
        if policy.split.separate_cold_chain:
            cold = {x.temperature != Temperature.AMBIENT for x in items}
            assert cold == {p.service == "cold_chain"}, "cold-chain goods mixed with ambient ones"
        if policy.split.oversize_by_freight and p.service in ("standard", "freight"):
            assert {x.oversize for x in items} == {p.service == "freight"}, "oversize outside freight"

    if not plan.shortages and policy.prefer[0] == "shipments":
        need = {x.sku: sum(y.quantity for y in lines if y.sku == x.sku) for x in lines}
        pool = home if policy.home_region_only else warehouses
        single = [w for w in pool if all((goods[sku].temperature == Temperature.AMBIENT or w.cold_chain)
                                         and stock.get((sku, w.code), 0) >= q for sku, q in need.items())]
        if single:
            assert len(used) == 1, "one warehouse could serve it all, but the plan used more"
