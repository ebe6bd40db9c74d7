"""Turn allocations into parcels under the split policy the rules chose.

A parcel never mixes warehouses; cold-chain goods are kept from ambient ones, hazmat
travels alone and oversize goes by freight when the policy says so; no parcel exceeds
the weight limit unless a single unit does.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from domain.messages import Allocation, LineFacts, ParcelLine, Shipment
from domain.model import Temperature


def _class_of(line: LineFacts, policy: dict[str, Any]) -> tuple[str, Temperature]:
    if line.hazmat and policy.get("separate_hazmat", True):
        return "hazmat", Temperature.AMBIENT
    if line.temperature != Temperature.AMBIENT and policy.get("separate_cold_chain", True):
        return "cold_chain", line.temperature
    if line.oversize and policy.get("oversize_by_freight", True):
        return "freight", Temperature.AMBIENT
    return "standard", Temperature.AMBIENT


def split_into_shipments(
    order_id: str,
    allocations: list[Allocation],
    lines: list[LineFacts],
    policy: dict[str, Any],
) -> list[Shipment]:
    by_line = {ln.line_no: ln for ln in lines}
    max_weight = int(policy.get("max_parcel_weight_g", 30_000))
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
