"""What each rule set may look at and what it may answer: the contract between rule files
and the code that acts on their outcomes.

`ordo rules check` uses it to catch a misspelt fact, a value of the wrong type or an
outcome key the workflow would silently ignore, before a file goes live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.exceptions import ROUTED_KINDS, ExceptionAction
from domain.geo import REGIONS, normalise_province

FactType = Literal["int", "str", "bool", "list"]

TIERS = ("regular", "silver", "gold", "platinum")
TEMPERATURES = ("ambient", "chilled", "frozen")
LANES = ("express", "standard", "economy")
PAYMENT_METHODS = ("alipay", "wechat", "card", "cod")
SERVICES = ("standard", "cold_chain", "hazmat", "freight")
EXCEPTION_TYPES = tuple(k.value for k in ROUTED_KINDS)
RETURN_REASONS = ("defective", "damaged_in_transit", "wrong_item", "not_as_described", "changed_mind",
                  "size_fit")
CONDITIONS = ("unopened", "opened", "used", "damaged")
INSPECTIONS = ("restock", "refurbish", "dispose")
PROVINCES = tuple(p for ps in REGIONS.values() for p in ps)


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: FactType
    description: str
    values: tuple[str, ...] = ()

    def normalise(self, value: object) -> object:
        """Provinces may be written `浙江省` or `浙江` in a rule; facts carry the short form."""
        if self.name == "province" and isinstance(value, str):
            return normalise_province(value)
        return value


def _facts(*specs: FactSpec) -> dict[str, FactSpec]:
    return {s.name: s for s in specs}


LINE_FACTS = _facts(
    FactSpec("sku", "str", "the product's SKU"),
    FactSpec("quantity", "int", "units ordered on the line"),
    FactSpec("weight_g", "int", "weight of the whole line in grams"),
    FactSpec("temperature", "str", "storage temperature", TEMPERATURES),
    FactSpec("hazmat", "bool", "dangerous goods (batteries, aerosols, spirits)"),
    FactSpec("oversize", "bool", "too big for a parcel; goes by freight"),
)

ORDER_FACTS = _facts(
    FactSpec("channel", "str", "sales channel the order came from (taobao, tmall, jd, shopify, pos, ...)"),
    FactSpec("customer_tier", "str", "membership tier", TIERS),
    FactSpec("currency", "str", "ISO currency code"),
    FactSpec("total_minor", "int", "order total in fen (minor units): 100 = 1 yuan"),
    FactSpec("line_count", "int", "number of order lines"),
    FactSpec("item_count", "int", "units across all lines"),
    FactSpec("weight_g", "int", "total weight in grams"),
    FactSpec("has_cold_chain", "bool", "some line is chilled or frozen"),
    FactSpec("has_frozen", "bool", "some line is frozen"),
    FactSpec("has_hazmat", "bool", "some line is dangerous goods"),
    FactSpec("has_oversize", "bool", "some line goes by freight"),
    FactSpec("province", "str", "destination province (short form: 浙江, 新疆)", PROVINCES),
    FactSpec("region", "str", "destination logistics region", tuple(REGIONS)),
    FactSpec("remote_area", "bool", "destination is Xinjiang, Tibet or Qinghai"),
    FactSpec("payment_method", "str", "how the customer pays", PAYMENT_METHODS),
    FactSpec("lines", "list", "the order lines; use any_line / all_lines to look inside"),
)

PARCEL_FACTS = _facts(
    FactSpec("direction", "str", "outbound: to the customer; return: the customer's label back to the "
             "warehouse (no lane)", ("outbound", "return")),
    FactSpec("lane", "str", "the order's lane from the priority rules (outbound only)", LANES),
    FactSpec("service", "str", "what the parcel needs from a carrier", SERVICES),
    FactSpec("province", "str", "the customer's province (where an outbound parcel goes, where a "
             "return comes from)", PROVINCES),
    FactSpec("region", "str", "the customer's logistics region", tuple(REGIONS)),
    FactSpec("remote_area", "bool", "the customer is in Xinjiang, Tibet or Qinghai"),
    FactSpec("weight_g", "int", "parcel weight in grams"),
    FactSpec("hazmat", "bool", "parcel holds dangerous goods"),
    FactSpec("temperature", "str", "parcel temperature", TEMPERATURES),
    FactSpec("customer_tier", "str", "membership tier", TIERS),
    FactSpec("total_minor", "int", "order total in fen"),
    FactSpec("quotes", "list", "every carrier quote considered (recorded, not matched on)"),
)

EXCEPTION_FACTS = _facts(
    FactSpec("exception_type", "str", "what went wrong", EXCEPTION_TYPES),
    FactSpec("attempt", "int", "1 on the first failure of that step, 2 on the next, ..."),
    FactSpec("customer_tier", "str", "membership tier", TIERS),
    FactSpec("lane", "str", "the order's lane", LANES),
    FactSpec("total_minor", "int", "order total in fen"),
    FactSpec("partial_available", "bool", "some of the order could ship now (out_of_stock only)"),
    FactSpec("channel", "str", "sales channel"),
    FactSpec("payment_method", "str", "how the customer pays", PAYMENT_METHODS),
    FactSpec("remote_area", "bool", "destination is Xinjiang, Tibet or Qinghai"),
    FactSpec("amount_minor", "int", "what the declined payment asked for, in fen (payment_declined)"),
    FactSpec("parcel_value_minor", "int", "what the failed parcel's goods are worth, in fen (shipment_*)"),
    FactSpec("carrier", "str", "the failed parcel's carrier code (shipment_*)"),
)

RETURN_FACTS = _facts(
    FactSpec("stage", "str", "request: a customer asks; inspection: the warehouse has graded an item",
             ("request", "inspection")),
    FactSpec("reason", "str", "why the customer returns it", RETURN_REASONS),
    FactSpec("condition", "str", "the item's condition as the customer states it", CONDITIONS),
    FactSpec("inspection", "str", "the warehouse's grading (inspection stage)", INSPECTIONS),
    FactSpec("resolution", "str", "what the customer asks for", ("refund", "exchange")),
    FactSpec("days_since_delivery", "int", "whole days since the parcel was delivered"),
    FactSpec("customer_tier", "str", "membership tier", TIERS),
    FactSpec("amount_minor", "int", "what the returned units are worth, in fen"),
    FactSpec("whole_order", "bool", "every unit of the order comes back"),
    FactSpec("returnable", "bool", "false when any returned product is perishable or hygiene goods"),
    FactSpec("hazmat", "bool", "some returned product is dangerous goods"),
    FactSpec("channel", "str", "sales channel of the order"),
)

TRANSFER_FACTS = _facts(
    FactSpec("sku", "str", "the product's SKU"),
    FactSpec("region", "str", "the region that may be running low", tuple(REGIONS)),
    FactSpec("temperature", "str", "how the product is kept", TEMPERATURES),
    FactSpec("available", "int", "units free to promise in the region's warehouses"),
    FactSpec("in_transit", "int", "units already on their way to the region"),
    FactSpec("demand", "int", "units of backordered orders bound for the region"),
    FactSpec("surplus", "int", "the most free units at one warehouse outside the region"),
)


class RuleOutcome(BaseModel):
    """A rule set's answer. No field has a default here: every key comes from the rule
    file's `default:` merged with the rules that fired, so a key the file leaves out is an
    `ordo rules check` error, not a silent fallback in code."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PriorityOutcome(RuleOutcome):
    lane: Literal["express", "standard", "economy"]
    sla_hours: int = Field(gt=0, le=24 * 30)
    review: str = Field(description="non-empty: hold the order for a fraud review, with this reason")
    unpaid_hold_minutes: int = Field(gt=0, le=7 * 24 * 60, description="an order not paid yet keeps "
                                     "its stock this long, then the exception rules decide")


class SplitOutcome(RuleOutcome):
    separate_cold_chain: bool
    separate_hazmat: bool
    oversize_by_freight: bool
    max_parcel_weight_g: int = Field(gt=0, le=1_000_000)
    max_shipments: int = Field(ge=1, le=20, description="most warehouses one order is sourced from")
    prefer: list[Literal["shipments", "distance", "cost"]] = Field(
        description="sourcing objectives, most important first")
    home_region_only: bool = Field(description="source only from the destination's region")
    on_shortage: Literal["wait", "ship_available", "other_region"] = Field(
        description="wait: reserve nothing and ask the exception rules; ship_available: "
        "reserve what there is; other_region: look beyond the home region")
    backorder_rest: bool = Field(description="when only part ships, the rest becomes a linked "
                                 "backorder (false: it is dropped and not charged)")


class TransferOutcome(RuleOutcome):
    transfer: bool = Field(description="move stock into the region now")
    cover_units: int = Field(ge=0, le=100_000, description="units to bring beyond the demand")
    min_units: int = Field(ge=1, le=100_000, description="smaller transfers are not worth a truck")


class CarrierOutcome(RuleOutcome):
    strategy: Literal["cheapest", "fastest", "balanced"]
    day_value: int = Field(ge=0, le=10_000, description="yuan one transit day is worth (balanced)")
    exclude_carriers: list[str]
    transit_grace_days: int = Field(ge=0, le=60, description="a parcel past its promised day with no "
                                    "tracking news for this many days is late")


class ExceptionOutcome(RuleOutcome):
    action: ExceptionAction
    delay_minutes: int = Field(gt=0, le=7 * 24 * 60, description="how long retry_later waits")
    reason: str


class ReturnOutcome(RuleOutcome):
    decision: Literal["approve", "reject", "review"] = Field(
        description="request stage: approve, reject, or hold for an operator")
    reason: str
    require_return: bool = Field(description="false: refund without taking the goods back")
    refund_shipping: bool = Field(description="refund the shipping fee too (whole-order returns)")
    refund_percent: int = Field(ge=0, le=100, description="inspection stage: share of value refunded")
    ship_back_days: int = Field(gt=0, le=90, description="days the customer has to send it back")


@dataclass(frozen=True)
class RulesetSpec:
    name: str
    facts: dict[str, FactSpec]
    outcome: type[RuleOutcome]
    purpose: str


RULESETS: dict[str, RulesetSpec] = {
    spec.name: spec for spec in (
        RulesetSpec("priority", ORDER_FACTS, PriorityOutcome,
                    "lane, ship-by hours and fraud review of a new order"),
        RulesetSpec("split", ORDER_FACTS, SplitOutcome, "how reserved stock is cut into parcels"),
        RulesetSpec("carriers", PARCEL_FACTS, CarrierOutcome,
                    "how a parcel's carrier is chosen among eligible quotes"),
        RulesetSpec("exceptions", EXCEPTION_FACTS, ExceptionOutcome, "what to do when a step fails"),
        RulesetSpec("transfers", TRANSFER_FACTS, TransferOutcome,
                    "when a region running low gets stock moved in from another (调拨)"),
        RulesetSpec("returns", RETURN_FACTS, ReturnOutcome,
                    "whether a return is accepted, and how much an inspected item refunds (逆向物流)"),
    )
}


def outcome_model(ruleset: str) -> type[RuleOutcome]:
    try:
        return RULESETS[ruleset].outcome
    except KeyError:
        raise ValueError(f"no rule set '{ruleset}': use one of {', '.join(RULESETS)}") from None
