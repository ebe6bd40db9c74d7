"""Which transfers (调拨) to make: pure, so the arithmetic is tested apart from the rules.

For a SKU and a region, `transfer_facts` is what `rules/transfers.yaml` sees; when its
outcome says transfer, `plan_transfer` sends the region's first suitable warehouse what the
waiting orders need plus the cover, less what is free or already on the way, from the
warehouse outside the region with the most free units (nearest on a tie).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.geo import distance_rank, region_of
from domain.model import Warehouse
from domain.rulesets import TransferOutcome


@dataclass(frozen=True)
class TransferPlan:
    sku: str
    from_warehouse: str
    to_warehouse: str
    quantity: int


def _suits(w: Warehouse, temperature: str) -> bool:
    return temperature == "ambient" or w.cold_chain


def transfer_facts(
    sku: str,
    temperature: str,
    region: str,
    demand: int,
    free: Mapping[str, int],
    in_transit: Mapping[str, int],
    warehouses: list[Warehouse],
) -> dict[str, Any]:
    """`free[warehouse]` and `in_transit[warehouse]` are this SKU's units."""
    home = [w for w in warehouses if region_of(w.province) == region and _suits(w, temperature)]
    away = [w for w in warehouses if region_of(w.province) != region and _suits(w, temperature)]
    return {
        "sku": sku,
        "region": region,
        "temperature": temperature,
        "demand": demand,
        "available": sum(free.get(w.code, 0) for w in home),
        "in_transit": sum(in_transit.get(w.code, 0) for w in home),
        "surplus": max((free.get(w.code, 0) for w in away), default=0),
    }


def plan_transfer(
    facts: Mapping[str, Any],
    outcome: TransferOutcome,
    free: Mapping[str, int],
    warehouses: list[Warehouse],
) -> TransferPlan | None:
    if not outcome.transfer:
        return None
    temperature, region = str(facts["temperature"]), str(facts["region"])
    home = sorted(
        (w for w in warehouses if region_of(w.province) == region and _suits(w, temperature)),
        key=lambda w: w.code,
    )
    if not home:
        return None
    target = home[0]
    wanted = (
        int(facts["demand"])
        + outcome.cover_units
        - int(facts["available"])
        - int(facts["in_transit"])
    )
    away = [
        w
        for w in warehouses
        if region_of(w.province) != region and _suits(w, temperature) and free.get(w.code, 0) > 0
    ]
    if not away:
        return None
    source = min(
        away, key=lambda w: (-free.get(w.code, 0), distance_rank(w.province, target.province), w.code)
    )
    quantity = min(wanted, free.get(source.code, 0))
    if quantity < outcome.min_units:
        return None
    return TransferPlan(
        sku=str(facts["sku"]), from_warehouse=source.code, to_warehouse=target.code, quantity=quantity
    )
