"""Quote carriers from their rate cards and pick one under the strategy the rules chose."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from domain.geo import normalise_province, zone
from domain.messages import Quote, Shipment
from domain.model import Carrier
from domain.money import quantize


def chargeable_kg(weight_g: int) -> Decimal:
    """Billed in 0.5 kg steps, at least 1 kg."""
    return max(Decimal(1), Decimal(math.ceil(weight_g / 500)) / 2)


def quote(carrier: Carrier, shipment: Shipment, origin: str, destination: str) -> Quote:
    z = zone(origin, destination)
    rate = carrier.rates.get(z)  # type: ignore[call-overload]
    reason = ""
    if rate is None:
        reason = f"no rate for zone {z}"
    elif normalise_province(destination) in carrier.excluded_provinces:
        reason = f"does not cover {destination}"
    elif shipment.service not in carrier.services and not (
        shipment.service == "hazmat" and carrier.hazmat
    ):
        reason = f"no {shipment.service} service"
    elif shipment.service == "hazmat" and not carrier.hazmat:
        reason = "does not accept hazmat"
    elif shipment.weight_g > carrier.max_weight_g:
        reason = f"weight {shipment.weight_g} g over limit {carrier.max_weight_g} g"
    if rate is None:
        return Quote(carrier=carrier.code, service=shipment.service, fee=Decimal(0),
                     transit_days=0, eligible=False, reason=reason)
    fee = quantize(rate.first_kg + (chargeable_kg(shipment.weight_g) - 1) * rate.additional_kg)
    return Quote(carrier=carrier.code, service=shipment.service, fee=fee,
                 transit_days=rate.transit_days, eligible=not reason, reason=reason)


def choose(quotes: list[Quote], outcome: dict[str, Any], exclude: set[str]) -> Quote | None:
    """Strategy `cheapest`, `fastest`, or `balanced` (fee + days x `day_value`); carriers in
    `exclude_carriers` are passed over unless no other eligible carrier is left."""
    strategy = outcome.get("strategy", "cheapest")
    day_value = Decimal(str(outcome.get("day_value", 5)))
    banned = set(outcome.get("exclude_carriers", [])) | exclude
    eligible = [q for q in quotes if q.eligible and q.carrier not in banned]
    if not eligible:  # the rules' exclusions are a preference; refusals are not
        eligible = [q for q in quotes if q.eligible and q.carrier not in exclude]
    if strategy == "fastest":
        eligible.sort(key=lambda q: (q.transit_days, q.fee, q.carrier))
    elif strategy == "balanced":
        eligible.sort(key=lambda q: (q.fee + day_value * q.transit_days, q.carrier))
    else:
        eligible.sort(key=lambda q: (q.fee, q.transit_days, q.carrier))
    return eligible[0] if eligible else None
