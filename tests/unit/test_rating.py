"""Rate shopping on the demo carriers' rate cards: every hard constraint, the volumetric
weight, the cut-off and the lane's balance of cost against time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.messages import ParcelLine, Shipment
from domain.model import Temperature
from domain.rating import chargeable_kg, choose, rate_shop
from tests.factories import carrier_rules
from tests.harness import load_demo_catalogue

CARRIERS = load_demo_catalogue().carriers
MORNING = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Beijing: before every cut-off
EVENING = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)  # 20:30 in Beijing


def parcel(
    service: str = "standard",
    weight_g: int = 2000,
    volume_cm3: int = 0,
    temperature: Temperature = Temperature.AMBIENT,
) -> Shipment:
    return Shipment(
        shipment_id="o-p1",
        order_id="o",
        warehouse="SH-01",
        lines=[ParcelLine(sku="X", quantity=1)],
        weight_g=weight_g,
        volume_cm3=volume_cm3,
        service=service,
        temperature=temperature,
    )


def eligible(quotes: list, carrier: str, level: str = "standard") -> bool:  # type: ignore[type-arg]
    return next(q for q in quotes if q.carrier == carrier and q.level == level).eligible


def test_chargeable_weight_is_the_larger_of_actual_and_volumetric_in_half_kilos() -> None:
    assert chargeable_kg(300) == Decimal(1)  # at least the first kilo
    assert chargeable_kg(1_201) == Decimal("1.5")
    assert chargeable_kg(2_000, volume_cm3=36_000, divisor=12_000) == Decimal(3)  # volumetric wins
    assert chargeable_kg(2_000, volume_cm3=36_000, divisor=6_000) == Decimal(6)
    assert chargeable_kg(100_200) == Decimal(101)  # whole kilos from 100 kg


def test_every_carrier_is_quoted_and_a_standard_parcel_also_for_the_express_products() -> None:
    quotes = rate_shop(CARRIERS, parcel(), "上海", "广东", MORNING)
    assert {q.carrier for q in quotes} == {"sf", "zto", "jd", "ems", "dhl"}
    assert {(q.carrier, q.level) for q in quotes if q.level == "express"} == {
        ("sf", "express"),
        ("jd", "express"),
        ("ems", "express"),
        ("dhl", "express"),
    }
    assert not eligible(quotes, "dhl") and "no standard service" in next(
        q.reason for q in quotes if q.carrier == "dhl" and q.level == "standard"
    )


def test_the_hard_constraints_rule_out_carriers_with_their_reason() -> None:
    cold = rate_shop(CARRIERS, parcel("cold_chain", temperature=Temperature.FROZEN), "上海", "北京", MORNING)
    assert sorted(q.carrier for q in cold if q.eligible) == ["jd", "sf"]
    hazmat = rate_shop(CARRIERS, parcel("hazmat"), "上海", "北京", MORNING)
    assert [q.carrier for q in hazmat if q.eligible] == ["ems"]
    assert {q.level for q in hazmat} == {"standard"}  # dangerous goods go by ground only
    tibet = rate_shop(CARRIERS, parcel(), "四川", "西藏", MORNING)
    assert not eligible(tibet, "zto") and not eligible(tibet, "dhl", "express")
    heavy = rate_shop(CARRIERS, parcel(weight_g=40_000), "上海", "北京", MORNING)
    assert not eligible(heavy, "zto") and eligible(heavy, "sf")
    freight = rate_shop(CARRIERS, parcel("freight", weight_g=78_000), "上海", "北京", MORNING)
    assert [q.carrier for q in freight if q.eligible] == ["jd"]


def test_a_bulky_light_parcel_is_priced_on_its_volume() -> None:
    light, bulky = (
        rate_shop(CARRIERS, parcel(weight_g=2_000, volume_cm3=v), "上海", "广东", MORNING)
        for v in (0, 60_000)
    )
    sf_light = next(q for q in light if q.carrier == "sf" and q.level == "standard")
    sf_bulky = next(q for q in bulky if q.carrier == "sf" and q.level == "standard")
    assert (sf_light.chargeable_kg, sf_bulky.chargeable_kg) == (
        Decimal(2),
        Decimal(10),
    )  # 60000/6000 across zones
    assert sf_bulky.fee == sf_light.fee + 8 * Decimal(9)


def test_a_parcel_booked_after_the_cut_off_is_promised_a_day_later() -> None:
    before = {
        (q.carrier, q.level): q.promised_days for q in rate_shop(CARRIERS, parcel(), "上海", "广东", MORNING)
    }
    after = {
        (q.carrier, q.level): q.promised_days for q in rate_shop(CARRIERS, parcel(), "上海", "广东", EVENING)
    }
    assert after[("zto", "standard")] == before[("zto", "standard")] + 1  # ZTO closes at 17:00
    assert after[("jd", "standard")] == before[("jd", "standard")]  # JD collects until 22:00


@pytest.mark.parametrize(
    ("lane_outcome", "expected"),
    [
        # Shanghai -> Guangdong, 2 kg: ZTO 14 yuan in 3 days, JD 25 in 2, DHL express 48 in 1
        ({"strategy": "balanced", "day_value": 1}, ("zto", "standard")),  # economy lane: cost decides
        ({"strategy": "balanced", "day_value": 5}, ("zto", "standard")),
        ({"strategy": "balanced", "day_value": 15}, ("jd", "standard")),  # a day saved is worth 11 yuan more
        ({"strategy": "balanced", "day_value": 60}, ("dhl", "express")),  # express lane: time outweighs cost
        ({"strategy": "cheapest"}, ("zto", "standard")),
    ],
)
def test_the_lane_balances_cost_against_the_promise(lane_outcome: dict, expected: tuple[str, str]) -> None:  # type: ignore[type-arg]
    quotes = rate_shop(CARRIERS, parcel(weight_g=2_000), "上海", "广东", MORNING)
    chosen = choose(quotes, carrier_rules(**lane_outcome), set())
    assert chosen is not None and (chosen.carrier, chosen.level) == expected


def test_exclusions_are_a_preference_and_refusals_are_not() -> None:
    quotes = rate_shop(CARRIERS, parcel("hazmat"), "上海", "北京", MORNING)
    chosen = choose(quotes, carrier_rules(**{"strategy": "cheapest", "exclude_carriers": ["ems"]}), set())
    assert chosen is not None and chosen.carrier == "ems"  # nobody else takes dangerous goods
    assert choose(quotes, carrier_rules(**{"strategy": "cheapest"}), {"ems"}) is None
