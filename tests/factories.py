"""Canonical orders for tests, priced from the demo catalogue so totals add up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.model import Order
from domain.rulesets import CarrierOutcome, SplitOutcome
from domain.sourcing import SourcingPolicy
from rules.shipped import default_outcome

PRICES = {"COKE-330-24": Decimal("59.00"), "YOGURT-12": Decimal("49.90"),
          "PHONE-X1": Decimal("3999.00"), "TSHIRT-M": Decimal("79.00"),
          "POWERBANK-20K": Decimal("159.00"), "TV-65": Decimal("4299.00"),
          "DUMPLING-1KG": Decimal("39.90"), "RICE-5KG": Decimal("89.00")}


def order_payload(external_id: str, lines: list[tuple[str, int]] | None = None, *,
                  channel: str = "shopify", tier: str = "regular", province: str = "上海市",
                  street: str = "浦东新区张江路88号", payer: str = "", shipping: str = "10.00",
                  unit_prices: dict[str, Decimal] | None = None) -> dict[str, Any]:
    lines = lines or [("COKE-330-24", 2)]
    prices = {**PRICES, **(unit_prices or {})}
    total = sum((prices[s] * q for s, q in lines), Decimal(0)) + Decimal(shipping)
    return {
        "channel": channel, "external_id": external_id,
        "customer": {"id": f"cust-{external_id}", "tier": tier},
        "lines": [{"sku": s, "quantity": q, "unit_price": str(prices[s])} for s, q in lines],
        "shipping_address": {"name": "张三", "phone": "13812345678", "province": province,
                             "city": "上海市", "district": "浦东新区", "street": street},
        "payment": {"method": "alipay", "payer_id": payer},
        "shipping_fee": shipping, "total": str(total),
    }


def make_order(external_id: str, lines: list[tuple[str, int]] | None = None, **kw: Any) -> Order:
    return Order.model_validate(order_payload(external_id, lines, **kw))


def split_rules(**overrides: Any) -> SplitOutcome:
    """The shipped split rules' default outcome, with `overrides`."""
    return default_outcome(SplitOutcome, "split", **overrides)


def sourcing(**overrides: Any) -> SourcingPolicy:
    """The sourcing policy of the shipped split rules' default, with `overrides` (split keys)."""
    return SourcingPolicy.from_outcome(split_rules(**overrides))


def carrier_rules(**overrides: Any) -> CarrierOutcome:
    """The shipped carrier rules' default outcome, with `overrides`."""
    return default_outcome(CarrierOutcome, "carriers", **overrides)
