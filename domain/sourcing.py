"""Choose warehouses for an order's lines: pure and deterministic, so it is easy to test.

Preference order: one warehouse that can serve the whole order (nearest first), else
the fewest warehouses, filling each line from warehouses already chosen, then nearest.
Cold-chain lines come only from cold-chain warehouses. Ties break on warehouse code.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.geo import distance_rank
from domain.messages import Allocation, LineFacts, ReserveResult, Shortage
from domain.model import Temperature, Warehouse


def _can_hold(line: LineFacts, wh: Warehouse) -> bool:
    return line.temperature == Temperature.AMBIENT or wh.cold_chain


def plan_sourcing(
    lines: list[LineFacts],
    available: Mapping[tuple[str, str], int],
    warehouses: list[Warehouse],
    destination: str,
) -> ReserveResult:
    """`available[(sku, warehouse)]` is what may still be reserved there."""
    by_distance = sorted(warehouses, key=lambda w: (distance_rank(w.province, destination), w.code))
    for wh in by_distance:
        if all(
            _can_hold(ln, wh) and available.get((ln.sku, wh.code), 0) >= ln.quantity
            for ln in lines
        ):
            return ReserveResult(
                allocations=[
                    Allocation(line_no=ln.line_no, sku=ln.sku, warehouse=wh.code, quantity=ln.quantity)
                    for ln in lines
                ],
                shortages=[],
            )

    left = dict(available)
    used: list[str] = []
    allocations: list[Allocation] = []
    shortages: list[Shortage] = []
    for ln in lines:
        need = ln.quantity
        order = sorted(
            (w for w in by_distance if _can_hold(ln, w)),
            key=lambda w: (w.code not in used, distance_rank(w.province, destination), w.code),
        )
        for wh in order:
            take = min(need, left.get((ln.sku, wh.code), 0))
            if take <= 0:
                continue
            allocations.append(
                Allocation(line_no=ln.line_no, sku=ln.sku, warehouse=wh.code, quantity=take)
            )
            left[(ln.sku, wh.code)] -= take
            if wh.code not in used:
                used.append(wh.code)
            need -= take
            if need == 0:
                break
        if need:
            shortages.append(Shortage(line_no=ln.line_no, sku=ln.sku, missing=need))
    return ReserveResult(allocations=allocations, shortages=shortages)
