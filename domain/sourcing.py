"""Choose warehouses for an order's lines: pure and deterministic, so it can be tested alone.

The split rules set the policy (`SourcingPolicy`); this module only searches. Every subset
of the warehouses that hold something the order needs, up to `max_shipments` of them, is
allocated (each line from one warehouse if it can, nearest first) and cut into parcels with
the same `split_into_shipments` the workflow uses, so the hard constraints (cold chain only
from cold-chain warehouses, hazmat alone, oversize by freight, parcel weight) hold for the
plan as they will for the parcels. Plans are ranked by units covered, then by the rules'
order of preference over `shipments` (warehouses, then parcels), `distance` (sum of each
parcel's distance rank to the destination) and `cost` (each parcel's cheapest eligible
carrier quote), then by the allocation itself so that ties always break the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any

from domain.geo import distance_rank, region_of
from domain.messages import Allocation, LineFacts, ReserveResult, Shipment, Shortage
from domain.model import Carrier, Temperature, Warehouse
from domain.rating import quote
from domain.rulesets import SplitOutcome
from domain.splitting import ParcelRules, split_into_shipments

OBJECTIVES = ("shipments", "distance", "cost")
SHORTAGE_POLICIES = ("wait", "ship_available", "other_region")
NO_CARRIER = 10**9  # the cost of a parcel no carrier takes: any other plan is better


@dataclass(frozen=True)
class SourcingPolicy:
    """The sourcing part of a split decision (`rules/split.yaml`), with its parcel keys,
    which every candidate plan is cut by."""

    max_shipments: int
    prefer: tuple[str, ...]
    home_region_only: bool
    on_shortage: str
    split: ParcelRules

    def __post_init__(self) -> None:
        """Objectives the rules leave out rank last, in the order of OBJECTIVES."""
        prefer = tuple(p for p in self.prefer if p in OBJECTIVES)
        object.__setattr__(self, "prefer", prefer + tuple(p for p in OBJECTIVES if p not in prefer))

    @classmethod
    def from_outcome(cls, outcome: SplitOutcome) -> SourcingPolicy:
        return cls(max_shipments=outcome.max_shipments, prefer=tuple(outcome.prefer),
                   home_region_only=outcome.home_region_only, on_shortage=outcome.on_shortage,
                   split=outcome)


def can_hold(line: LineFacts, wh: Warehouse) -> bool:
    return line.temperature == Temperature.AMBIENT or wh.cold_chain


@dataclass
class _Candidate:
    allocations: list[Allocation]
    shortage: int
    shipments: list[Shipment]
    score: tuple[Any, ...] = ()


class _Costs:
    """Cheapest eligible quote for a parcel, remembered per (origin, service, weight)."""

    def __init__(self, carriers: Sequence[Carrier], destination: str) -> None:
        self.carriers = carriers
        self.destination = destination
        self.fee = lru_cache(maxsize=4096)(self._fee)

    def _fee(self, origin: str, service: str, weight_g: int) -> int:
        parcel = Shipment(
            shipment_id="q", order_id="q", warehouse="q", lines=[], weight_g=weight_g, service=service
        )
        fees = [q.fee for c in self.carriers if (q := quote(c, parcel, origin, self.destination)).eligible]
        return int(min(fees) * 100) if fees else NO_CARRIER

    def of(self, shipments: list[Shipment], province: Mapping[str, str]) -> int:
        if not self.carriers:
            return 0
        return sum(self.fee(province[s.warehouse], s.service, s.weight_g) for s in shipments)


def _allocate(
    lines: list[LineFacts],
    available: Mapping[tuple[str, str], int],
    subset: Sequence[Warehouse],
) -> tuple[list[Allocation], int]:
    """Each line from a single warehouse of the subset if one has it all, else filled in
    subset order (nearest first); returns the allocations and the units left short."""
    left = {
        (sku, w.code): available.get((sku, w.code), 0) for w in subset for sku in {ln.sku for ln in lines}
    }
    allocations: list[Allocation] = []
    short = 0
    for ln in lines:
        fits = [w for w in subset if can_hold(ln, w)]
        whole = next((w for w in fits if left[(ln.sku, w.code)] >= ln.quantity), None)
        need = ln.quantity
        for w in [whole] if whole else fits:
            take = min(need, left[(ln.sku, w.code)])
            if take > 0:
                allocations.append(
                    Allocation(line_no=ln.line_no, sku=ln.sku, warehouse=w.code, quantity=take)
                )
                left[(ln.sku, w.code)] -= take
                need -= take
        short += need
    return allocations, short


class _Coverage:
    """Units a subset of warehouses could cover at most, from per-SKU totals computed once
    (lines of the same SKU share its stock): subsets that cannot beat the best plan's
    coverage are skipped without being allocated."""

    def __init__(
        self,
        lines: list[LineFacts],
        available: Mapping[tuple[str, str], int],
        warehouses: Sequence[Warehouse],
    ) -> None:
        need: dict[str, int] = {}
        for ln in lines:
            need[ln.sku] = need.get(ln.sku, 0) + ln.quantity
        self.need = need
        self.stock = {
            sku: {
                w.code: available.get((sku, w.code), 0)
                for w in warehouses
                if all(can_hold(ln, w) for ln in lines if ln.sku == sku)
            }
            for sku in need
        }

        self.columns = {w.code: [self.stock[sku].get(w.code, 0) for sku in need] for w in warehouses}

    def bound(self, subset: Sequence[Warehouse]) -> int:
        totals = [sum(units) for units in zip(*(self.columns[w.code] for w in subset), strict=True)]
        return sum(min(q, have) for q, have in zip(self.need.values(), totals, strict=True))


def _best(
    lines: list[LineFacts],
    available: Mapping[tuple[str, str], int],
    warehouses: Iterable[Warehouse],
    destination: str,
    policy: SourcingPolicy,
    costs: _Costs,
) -> _Candidate:
    rank = {w.code: distance_rank(w.province, destination) for w in warehouses}
    province = {w.code: w.province for w in warehouses}
    useful = sorted(
        (
            w
            for w in warehouses
            if any(can_hold(ln, w) and available.get((ln.sku, w.code), 0) > 0 for ln in lines)
        ),
        key=lambda w: (rank[w.code], w.code),
    )
    wanted = sum(ln.quantity for ln in lines)
    coverage = _Coverage(lines, available, useful)
    best = _Candidate(allocations=[], shortage=wanted, shipments=[], score=(wanted,))
    for size in range(1, min(policy.max_shipments, len(useful)) + 1):
        if best.shortage == 0 and policy.prefer[0] == "shipments" and len(_used(best)) < size:
            break  # a full plan from fewer warehouses already wins on the first objective
        for subset in combinations(useful, size):
            if wanted - coverage.bound(subset) > best.shortage:
                continue
            allocations, short = _allocate(lines, available, subset)
            shipments = split_into_shipments("plan", allocations, lines, policy.split)
            keys: dict[str, Any] = {
                "shipments": (len({a.warehouse for a in allocations}), len(shipments)),
                "distance": sum(rank[s.warehouse] for s in shipments),
            }
            before_cost = policy.prefer[: policy.prefer.index("cost")]
            head = (short, *(keys[p] for p in before_cost))
            if best.allocations and head > best.score[: len(head)]:
                continue  # cannot win whatever it costs: skip the quotes
            keys["cost"] = costs.of(shipments, province)
            score = (
                short,
                *(keys[p] for p in policy.prefer),
                tuple((a.line_no, a.warehouse, -a.quantity) for a in allocations),
            )
            if not best.allocations or score < best.score:
                best = _Candidate(allocations, short, shipments, score)
    return best


def _used(c: _Candidate) -> set[str]:
    return {a.warehouse for a in c.allocations}


def plan_sourcing(
    lines: list[LineFacts],
    available: Mapping[tuple[str, str], int],
    warehouses: list[Warehouse],
    destination: str,
    policy: SourcingPolicy,
    carriers: Sequence[Carrier] = (),
) -> ReserveResult:
    """`available[(sku, warehouse)]` is what may still be reserved there. With
    `home_region_only` only the destination region's warehouses are searched; when they fall
    short and `on_shortage` is `other_region`, every warehouse is searched instead."""
    costs = _Costs(carriers, destination)
    home = [w for w in warehouses if region_of(w.province) == region_of(destination)]
    pool = home if policy.home_region_only else warehouses
    best = _best(lines, available, pool, destination, policy, costs)
    if best.shortage and policy.home_region_only and policy.on_shortage == "other_region":
        wider = _best(lines, available, warehouses, destination, policy, costs)
        best = wider if wider.shortage < best.shortage else best
    allocations = best.allocations
    got: dict[int, int] = {}
    for a in allocations:
        got[a.line_no] = got.get(a.line_no, 0) + a.quantity
    shortages = [
        Shortage(line_no=ln.line_no, sku=ln.sku, missing=ln.quantity - got.get(ln.line_no, 0))
        for ln in lines
        if got.get(ln.line_no, 0) < ln.quantity
    ]
    return ReserveResult(allocations=allocations, shortages=shortages)
