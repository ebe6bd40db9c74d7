"""Rate-shop a parcel across carriers' rate cards and pick one under the strategy the rules chose.

Prices follow how Chinese carriers bill (`shared/notes/logistics.md`): the chargeable weight
is the larger of actual and volumetric weight (L x W x H / 12000 within a zone, / 6000
across zones and for cold-chain and freight), in 0.5 kg steps below 100 kg; the fee is the
first-kg price plus the additional-kg price for the rest. A parcel booked after the
carrier's cut-off leaves a day later, so its promise is a day longer.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from domain.geo import normalise_province, zone
from domain.messages import Quote, Shipment
from domain.model import Carrier
from domain.money import quantize
from domain.rulesets import CarrierOutcome

BEIJING = timezone(timedelta(hours=8))
IN_ZONE = ("local", "regional")

# The carrier products that can carry a parcel of each kind: an ordinary parcel may go by
# the standard or the express product; dangerous goods by ground (standard) only.
LEVELS = {"standard": ("standard", "express"), "hazmat": ("standard",),
          "cold_chain": ("cold_chain",), "freight": ("freight",)}


def levels_for(service: str) -> tuple[str, ...]:
    return LEVELS.get(service, ("standard",))


def volumetric_divisor(zone_name: str, level: str) -> int:
    return 12000 if zone_name in IN_ZONE and level not in ("cold_chain", "freight") else 6000


def chargeable_kg(weight_g: int, volume_cm3: int = 0, divisor: int = 12000) -> Decimal:
    """max(actual, volumetric), at least 1 kg, in 0.5 kg steps (whole kg from 100 kg)."""
    kg = max(Decimal(weight_g) / 1000, Decimal(volume_cm3) / divisor)
    if kg >= 100:
        return Decimal(math.ceil(kg))
    return max(Decimal(1), Decimal(math.ceil(kg * 2)) / 2)


def quote(carrier: Carrier, shipment: Shipment, origin: str, destination: str,
          level: str | None = None, booked_at: datetime | None = None) -> Quote:
    level = level or levels_for(shipment.service)[0]
    z = zone(origin, destination)
    rate = (carrier.service_rates.get(level) or carrier.rates).get(z)  # type: ignore[call-overload]
    reason = ""
    if rate is None:
        reason = f"no rate for zone {z}"
    elif normalise_province(destination) in carrier.excluded_provinces:
        reason = f"does not cover {destination}"
    elif level not in carrier.services:
        reason = f"no {level} service"
    elif shipment.service == "hazmat" and not carrier.hazmat:
        reason = "does not accept hazmat"
    elif shipment.weight_g > carrier.max_weight_g:
        reason = f"weight {shipment.weight_g} g over limit {carrier.max_weight_g} g"
    common = {"carrier": carrier.code, "service": shipment.service, "level": level,
              "protocol": carrier.protocol}
    if rate is None:
        return Quote(**common, fee=Decimal(0), transit_days=0, eligible=False, reason=reason)
    kg = chargeable_kg(shipment.weight_g, shipment.volume_cm3, volumetric_divisor(z, level))
    fee = quantize(rate.first_kg + (kg - 1) * rate.additional_kg)
    late = booked_at is not None and booked_at.astimezone(BEIJING).hour >= carrier.cutoff_hour
    return Quote(**common, fee=fee, transit_days=rate.transit_days, eligible=not reason,
                 reason=reason, chargeable_kg=kg, promised_days=rate.transit_days + int(late))


def rate_shop(carriers: list[Carrier], shipment: Shipment, origin: str, destination: str,
              booked_at: datetime | None = None) -> list[Quote]:
    """Every carrier once for the parcel's basic product (kept with its reason when it
    cannot carry it, so the decision shows why), plus each faster product it offers."""
    base, *extra = levels_for(shipment.service)
    quotes = []
    for c in carriers:
        quotes.append(quote(c, shipment, origin, destination, base, booked_at))
        quotes += [quote(c, shipment, origin, destination, lv, booked_at) for lv in extra if lv in c.services]
    return quotes


def _days(q: Quote) -> int:
    return q.promised_days or q.transit_days


def choose(quotes: list[Quote], outcome: CarrierOutcome, exclude: set[str]) -> Quote | None:
    """Strategy `cheapest`, `fastest`, or `balanced` (fee + promised days x `day_value`);
    carriers in `exclude_carriers` are passed over unless no other eligible carrier is left."""
    strategy = outcome.strategy
    day_value = Decimal(outcome.day_value)
    banned = set(outcome.exclude_carriers) | exclude
    eligible = [q for q in quotes if q.eligible and q.carrier not in banned]
    if not eligible:  # the rules' exclusions are a preference; refusals are not
        eligible = [q for q in quotes if q.eligible and q.carrier not in exclude]
    if strategy == "fastest":
        eligible.sort(key=lambda q: (_days(q), q.fee, q.carrier, q.level))
    elif strategy == "balanced":
        eligible.sort(key=lambda q: (q.fee + day_value * _days(q), _days(q), q.carrier, q.level))
    else:
        eligible.sort(key=lambda q: (q.fee, _days(q), q.carrier, q.level))
    return eligible[0] if eligible else None
