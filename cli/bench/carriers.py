"""`ordo bench --section carriers`: rate-shopping decisions/s and what each lane's balance buys.

Random parcels (0.3-40 kg, some bulky, ambient, frozen or dangerous goods) from the demo
warehouses to every province, quoted on the demo carriers' rate cards. Measured: rate-shop
(every carrier x product, volumetric weight, cut-off) plus the choice under each lane's
`day_value`; baseline, in the same run: one quote per carrier for the basic product and the
cheapest eligible (what Ordo did before carriers were chosen by time as well as cost).
Besides the speed ratio, the average fee and promised days each lane ends up with show
the trade the rules make.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from config.settings import PROJECT_ROOT
from domain.geo import REGIONS
from domain.messages import ParcelLine, Quote, Shipment
from domain.model import Catalogue, Temperature
from domain.rating import choose, quote, rate_shop
from domain.rulesets import CarrierOutcome
from rules.shipped import default_outcome

PARCELS = 3000
LANES = {
    "express": default_outcome(CarrierOutcome, "carriers", strategy="balanced", day_value=60),
    "standard": default_outcome(CarrierOutcome, "carriers", strategy="balanced", day_value=5),
    "economy": default_outcome(CarrierOutcome, "carriers", strategy="balanced", day_value=1),
}


def _parcels(rng: random.Random, warehouses: dict[str, str]) -> list[tuple[Shipment, str, str, datetime]]:
    provinces = [p for ps in REGIONS.values() for p in ps]
    out = []
    for i in range(PARCELS):
        kind = rng.choices(["standard", "cold_chain", "hazmat"], weights=[8, 1, 1])[0]
        weight = rng.randint(300, 40_000)
        s = Shipment(
            shipment_id=f"b-{i}",
            order_id="b",
            warehouse=rng.choice(list(warehouses)),
            lines=[ParcelLine(sku="X", quantity=1)],
            weight_g=weight,
            volume_cm3=rng.choice([0, weight * 5, weight * 20]),
            service=kind,
            temperature=Temperature.FROZEN if kind == "cold_chain" else Temperature.AMBIENT,
        )
        at = datetime(2026, 11, 25, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 24 * 60))
        out.append((s, warehouses[s.warehouse], rng.choice(provinces), at))
    return out


def _days(q: Quote) -> int:
    return q.promised_days or q.transit_days


def run_carriers_bench(out_dir: Path, console: Console) -> dict[str, Any]:
    catalogue = Catalogue.model_validate(
        yaml.safe_load((PROJECT_ROOT / "config" / "demo" / "catalog.yaml").read_text(encoding="utf-8"))
    )
    carriers = catalogue.carriers
    parcels = _parcels(random.Random(11), {w.code: w.province for w in catalogue.warehouses})
    result: dict[str, Any] = {"parcels": PARCELS}
    with console.status(f"carriers: rate-shopping {PARCELS} parcels..."):
        started = time.perf_counter()
        cheapest: list[Quote | None] = []
        for s, origin, dest, at in parcels:
            eligible = [q for c in carriers if (q := quote(c, s, origin, dest, booked_at=at)).eligible]
            cheapest.append(min(eligible, key=lambda q: (q.fee, q.carrier)) if eligible else None)
        base_s = time.perf_counter() - started
        started = time.perf_counter()
        chosen: dict[str, list[Quote | None]] = {lane: [] for lane in LANES}
        for s, origin, dest, at in parcels:
            quotes = rate_shop(carriers, s, origin, dest, at)
            for lane, outcome in LANES.items():
                chosen[lane].append(choose(quotes, outcome, set()))
        shop_s = time.perf_counter() - started
    result["baseline_cheapest_per_s"] = round(PARCELS / base_s)
    result["rate_shop_three_lanes_per_s"] = round(PARCELS / shop_s)
    result["ratio"] = round(base_s / shop_s, 3)

    def summary(picks: list[Quote | None]) -> dict[str, Any]:
        got = [q for q in picks if q is not None]
        return {
            "carried": len(got),
            "avg_fee": str(round(sum((q.fee for q in got), Decimal(0)) / len(got), 2)),
            "avg_promised_days": round(sum(_days(q) for q in got) / len(got), 2),
        }

    result["baseline_cheapest"] = summary(cheapest)
    result["lanes"] = {lane: summary(picks) for lane, picks in chosen.items()}
    table = Table(title=f"carriers: {PARCELS} parcels, demo rate cards")
    for col in ("choice", "parcels carried", "avg fee (yuan)", "avg promised days"):
        table.add_column(col)
    table.add_row("cheapest, basic product (baseline)", *map(str, result["baseline_cheapest"].values()))
    for lane, s in result["lanes"].items():
        table.add_row(f"{lane} lane (day worth {LANES[lane].day_value} yuan)", *map(str, s.values()))
    console.print(table)
    console.print(
        f"rate-shop + three lane choices: {result['rate_shop_three_lanes_per_s']} parcels/s vs "
        f"cheapest-quote baseline {result['baseline_cheapest_per_s']}/s (ratio {result['ratio']})"
    )
    return result
