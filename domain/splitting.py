"""Turn allocations into parcels under the split policy the rules chose.

A parcel never mixes warehouses; cold-chain goods are kept from ambient ones, hazmat
travels alone and oversize goes by freight when the policy says so; no parcel exceeds
the weight limit unless a single unit does.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from domain.messages import Allocation, LineFacts, ParcelLine, Shipment
from domain.model import Temperature


class ParcelRules(Protocol):
    """The parcel keys of a split decision (`domain.rulesets.SplitOutcome` has them)."""

    @property
    def separate_cold_chain(self) -> bool: ...
    @property
    def separate_hazmat(self) -> bool: ...
    @property
    def oversize_by_freight(self) -> bool: ...
    @property
    def max_parcel_weight_g(self) -> int: ...


def _class_of(line: LineFacts, policy: ParcelRules) -> tuple[str, Temperature]:
    if line.hazmat and policy.separate_hazmat:
        return "hazmat", Temperature.AMBIENT
    if line.temperature != Temperature.AMBIENT and policy.separate_cold_chain:
        return "cold_chain", line.temperature
    if line.oversize and policy.oversize_by_freight:
        return "freight", Temperature.AMBIENT
    return "standard", Temperature.AMBIENT


def split_into_shipments(
    order_id: str,
    allocations: list[Allocation],
    lines: list[LineFacts],
    policy: ParcelRules,
) -> list[Shipment]:
    by_line = {ln.line_no: ln for ln in lines}
    max_weight = policy.max_parcel_weight_g
    groups: dict[tuple[str, str, Temperature], list[tuple[str, int, int, int]]] = defaultdict(list)
    for alloc in sorted(allocations, key=lambda a: (a.warehouse, a.line_no)):
        line = by_line[alloc.line_no]
        service, temp = _class_of(line, policy)
        unit_weight = line.weight_g // line.quantity
        unit_volume = line.volume_cm3 // line.quantity
        groups[(alloc.warehouse, service, temp)].append((alloc.sku, alloc.quantity, unit_weight, unit_volume))

    shipments: list[Shipment] = []
    for (warehouse, service, temp), items in sorted(groups.items()):
        parcels: list[dict[str, int]] = [{}]
        weights = [0]
        volumes = [0]
        for sku, qty, unit_weight, unit_volume in items:
            for _ in range(qty):
                if weights[-1] and weights[-1] + unit_weight > max_weight:
                    parcels.append({})
                    weights.append(0)
                    volumes.append(0)
                parcels[-1][sku] = parcels[-1].get(sku, 0) + 1
                weights[-1] += unit_weight
                volumes[-1] += unit_volume
        for parcel, weight, volume in zip(parcels, weights, volumes, strict=True):
            shipments.append(
                Shipment(
                    shipment_id=f"{order_id}-p{len(shipments) + 1}",
                    order_id=order_id,
                    warehouse=warehouse,
                    lines=[ParcelLine(sku=s, quantity=q) for s, q in parcel.items()],
                    weight_g=weight,
                    volume_cm3=volume,
                    service=service,
                    temperature=temp,
                )
            )
    return shipments
