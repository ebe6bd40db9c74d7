"""How much of an order's payment some of its units are worth, for refunds.

A unit is worth its price less its share of the order discount plus its share of the tax,
both in proportion to the goods' value; the shipping fee is refunded only when asked
(the returns rules decide, for whole-order returns). Rounded to the cent, never more than
what was paid.
"""

from __future__ import annotations

from decimal import Decimal

from domain.model import Order
from domain.money import quantize


def goods_value(order: Order, units: dict[str, int]) -> Decimal:
    """Price of `units` (SKU -> count) at the order's unit prices, earliest lines first."""
    left = dict(units)
    value = Decimal(0)
    for line in order.lines:
        take = min(left.get(line.sku, 0), line.quantity)
        if take:
            value += line.unit_price * take
            left[line.sku] -= take
    unknown = {s: n for s, n in left.items() if n > 0}
    if unknown:
        raise ValueError(f"not on the order in that quantity: {unknown}")
    return value


def parcel_value(
    order: Order, units: dict[str, int], percent: int = 100, include_shipping: bool = False
) -> Decimal:
    subtotal = order.subtotal()
    goods = goods_value(order, units)
    share = goods / subtotal if subtotal else Decimal(0)
    value = (goods - order.discount * share + order.tax * share) * Decimal(percent) / 100
    if include_shipping:
        value += order.shipping_fee
    return quantize(max(min(value, order.total), Decimal(0)))
