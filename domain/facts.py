"""Flat, typed facts that rule files match on.

Rules see numbers as numbers and money as integer minor units (the engine compares
floats inexactly and strings never satisfy `$gt`), and never nested arrays.
"""

from __future__ import annotations

from typing import Any

from domain.geo import is_remote, region_of
from domain.messages import LineFacts, Shipment
from domain.model import Order, Product
from domain.money import to_minor


def line_facts(order: Order, products: dict[str, Product]) -> list[LineFacts]:
    return [
        LineFacts(
            line_no=i,
            sku=ln.sku,
            quantity=ln.quantity,
            weight_g=products[ln.sku].weight_g * ln.quantity,
            temperature=products[ln.sku].temperature,
            hazmat=products[ln.sku].hazmat,
            oversize=products[ln.sku].oversize,
            volume_cm3=products[ln.sku].volume_cm3 * ln.quantity,
            returnable=products[ln.sku].returnable,
        )
        for i, ln in enumerate(order.lines)
    ]


def order_facts(order: Order, lines: list[LineFacts]) -> dict[str, Any]:
    province = order.shipping_address.province
    return {
        "channel": order.channel,
        "customer_tier": order.customer.tier.value,
        "currency": order.currency,
        "total_minor": to_minor(order.total),
        "line_count": len(order.lines),
        "item_count": sum(ln.quantity for ln in order.lines),
        "weight_g": sum(ln.weight_g for ln in lines),
        "has_cold_chain": any(ln.temperature != "ambient" for ln in lines),
        "has_frozen": any(ln.temperature == "frozen" for ln in lines),
        "has_hazmat": any(ln.hazmat for ln in lines),
        "has_oversize": any(ln.oversize for ln in lines),
        "province": province,
        "region": region_of(province),
        "remote_area": is_remote(province),
        "payment_method": order.payment.method,
        "lines": [
            {"sku": ln.sku, "quantity": ln.quantity, "weight_g": ln.weight_g,
             "temperature": str(ln.temperature), "hazmat": ln.hazmat, "oversize": ln.oversize}
            for ln in lines
        ],
    }


def parcel_facts(parcel: Shipment, province: str, customer_tier: str, total_minor: int) -> dict[str, Any]:
    """The carrier rules' facts about a parcel and its customer, the same for an outbound
    parcel and a return label (`province` is the customer's either way)."""
    return {
        "service": parcel.service,
        "province": province,
        "region": region_of(province),
        "remote_area": is_remote(province),
        "weight_g": parcel.weight_g,
        "hazmat": parcel.service == "hazmat",
        "temperature": parcel.temperature.value,
        "customer_tier": customer_tier,
        "total_minor": total_minor,
    }
