"""Pure decisions: which warehouses serve an order, how it is cut into parcels, which carrier."""

from __future__ import annotations

from decimal import Decimal

from domain.messages import Allocation, LineFacts, Quote, Shipment
from domain.model import Carrier, Temperature, Warehouse, ZoneRate
from domain.rating import chargeable_kg, choose, quote
from domain.sourcing import plan_sourcing
from domain.splitting import split_into_shipments
from tests.factories import carrier_rules, sourcing, split_rules

WH = [Warehouse(code="SH-01", name="sh", province="上海", city="上海", cold_chain=True),
      Warehouse(code="GZ-01", name="gz", province="广东", city="广州", cold_chain=False),
      Warehouse(code="BJ-01", name="bj", province="北京", city="北京", cold_chain=True)]


def line(no: int, sku: str, qty: int, temp: Temperature = Temperature.AMBIENT, *, weight: int = 1000,
         hazmat: bool = False, oversize: bool = False) -> LineFacts:
    return LineFacts(line_no=no, sku=sku, quantity=qty, weight_g=weight * qty, temperature=temp,
                     hazmat=hazmat, oversize=oversize)


def test_one_nearby_warehouse_serves_the_whole_order_when_it_can() -> None:
    lines = [line(0, "A", 2), line(1, "B", 1)]
    stock = {("A", "GZ-01"): 5, ("B", "GZ-01"): 5, ("A", "SH-01"): 5, ("B", "SH-01"): 5}
    plan = plan_sourcing(lines, stock, WH, "广东", sourcing())
    assert {a.warehouse for a in plan.allocations} == {"GZ-01"} and not plan.shortages


def test_cold_chain_lines_never_come_from_an_ambient_warehouse() -> None:
    lines = [line(0, "Y", 1, Temperature.CHILLED)]
    plan = plan_sourcing(lines, {("Y", "GZ-01"): 9, ("Y", "BJ-01"): 1}, WH, "广东", sourcing())
    assert [a.warehouse for a in plan.allocations] == ["BJ-01"]


def test_short_stock_is_split_across_warehouses_and_the_rest_reported() -> None:
    plan = plan_sourcing([line(0, "A", 10)], {("A", "SH-01"): 4, ("A", "BJ-01"): 3}, WH, "上海", sourcing())
    assert [(a.warehouse, a.quantity) for a in plan.allocations] == [("SH-01", 4), ("BJ-01", 3)]
    assert plan.shortages[0].missing == 3


def test_split_keeps_cold_and_hazmat_apart_and_respects_weight() -> None:
    lines = [line(0, "A", 3, weight=8000), line(1, "Y", 1, Temperature.FROZEN),
             line(2, "H", 1, hazmat=True)]
    allocs = [Allocation(line_no=i, sku=ln.sku, warehouse="SH-01", quantity=ln.quantity)
              for i, ln in enumerate(lines)]
    parcels = split_into_shipments("o", allocs, lines, split_rules(max_parcel_weight_g=20000))
    services = sorted(p.service for p in parcels)
    assert services == ["cold_chain", "hazmat", "standard", "standard"]
    assert all(p.weight_g <= 20000 for p in parcels)
    assert sum(ln.quantity for p in parcels if p.service == "standard" for ln in p.lines) == 3


def carrier(code: str, first: str, days: int, services: list[str], **kw: object) -> Carrier:
    rate = ZoneRate(first_kg=Decimal(first), additional_kg=Decimal("2"), transit_days=days)
    return Carrier.model_validate({"code": code, "name": code, "services": services,
                                   "rates": {z: rate for z in ("local", "regional", "national", "remote")},
                                   **kw})


def test_rates_bill_half_kilos_and_constraints_make_carriers_ineligible() -> None:
    assert chargeable_kg(1) == 1 and chargeable_kg(1201) == Decimal("1.5")
    parcel = Shipment(shipment_id="s", order_id="o", warehouse="SH-01", lines=[], weight_g=2000,
                      service="cold_chain")
    sf = quote(carrier("sf", "20", 1, ["standard", "cold_chain"]), parcel, "上海", "北京")
    zto = quote(carrier("zto", "8", 3, ["standard"]), parcel, "上海", "北京")
    assert sf.eligible and sf.fee == Decimal("22.00")
    assert not zto.eligible and zto.reason == "no cold_chain service"
    remote = quote(carrier("x", "8", 3, ["standard"], excluded_provinces=["西藏自治区"]),
                   parcel.model_copy(update={"service": "standard"}), "上海", "西藏")
    assert remote.reason == "does not cover 西藏"


def test_choice_follows_the_strategy_and_skips_refused_carriers() -> None:
    quotes = [Quote(carrier="a", service="standard", fee=Decimal("10"), transit_days=3, eligible=True),
              Quote(carrier="b", service="standard", fee=Decimal("18"), transit_days=1, eligible=True)]
    assert choose(quotes, carrier_rules(**{"strategy": "cheapest"}), set()).carrier == "a"  # type: ignore[union-attr]
    assert choose(quotes, carrier_rules(**{"strategy": "fastest"}), set()).carrier == "b"  # type: ignore[union-attr]
    assert choose(quotes, carrier_rules(**{"strategy": "balanced", "day_value": 5}), set()).carrier == "b"  # type: ignore[union-attr]
    assert choose(quotes, carrier_rules(**{"strategy": "fastest"}), {"b"}).carrier == "a"  # type: ignore[union-attr]
    assert choose(quotes, carrier_rules(), {"a", "b"}) is None
