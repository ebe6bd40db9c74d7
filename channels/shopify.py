"""Shopify's REST Order, as sent by the `orders/create`, `orders/updated` and
`orders/cancelled` webhooks (shopify.dev, webhook and REST Order reference).

Money arrives as decimal strings; provinces in pinyin or by code; there is no district
field (address2 usually carries it). Customer tags `platinum`, `gold`, `silver` (or
`vip`) set the tier. A refund in flight sends the order to an operator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

from channels.base import Intake, PayloadError, build_order, fail, items, money, need, obj, parse_json
from domain.errors import FieldError

CHANNEL = "shopify"
TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
_TIERS = ("platinum", "gold", "silver")


def verify(raw: bytes, header: str | None, secret: str) -> bool:
    """X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(app secret, raw body)), constant-time."""
    if not header or not secret:
        return False
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(digest, header.strip())


def sign(raw: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def _tier(order: dict[str, Any]) -> str:
    tags = str(obj(order.get("customer")).get("tags") or "") + "," + str(order.get("tags") or "")
    words = {t.strip().lower() for t in tags.split(",")}
    for tier in _TIERS:
        if tier in words:
            return tier
    return "gold" if "vip" in words else "regular"


def _payment_method(order: dict[str, Any]) -> str:
    gateways = " ".join(str(g).lower() for g in items(order.get("payment_gateway_names")))
    if "cash on delivery" in gateways or "cod" in gateways.split():
        return "cod"
    if "alipay" in gateways:
        return "alipay"
    if "wechat" in gateways or "weixin" in gateways:
        return "wechat"
    return "card"


def parse(raw: bytes, topic: str = "orders/create") -> Intake:
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise fail("body", "expected a Shopify Order object")
    order_id = str(need(data, "id", "id"))
    if topic == "orders/cancelled" or data.get("cancelled_at"):
        return Intake(
            kind="cancel",
            channel=CHANNEL,
            external_id=order_id,
            reason=f"cancelled on Shopify ({data.get('cancel_reason') or 'no reason given'})",
        )
    addr = data.get("shipping_address")
    if not isinstance(addr, dict):
        raise fail("shipping_address", "required: Ordo ships every order (no shipping_address was sent)")
    line_items = data.get("line_items")
    if not isinstance(line_items, list) or not line_items:
        raise fail("line_items", "required: at least one line item")
    errors: list[FieldError] = []
    lines = []
    for i, item in enumerate(line_items):
        if not isinstance(item, dict):
            errors.append(FieldError(field=f"line_items[{i}]", reason="expected an object"))
            continue
        if not item.get("sku"):
            errors.append(
                FieldError(
                    field=f"line_items[{i}].sku",
                    reason="empty: give the variant a SKU in Shopify so Ordo can find it",
                )
            )
            continue
        lines.append(
            {
                "sku": item["sku"],
                "quantity": item.get("quantity"),
                "unit_price": str(money(item.get("price"), f"line_items[{i}].price")),
                "channel_line_id": str(item.get("id") or ""),
            }
        )
    if errors:
        raise PayloadError(errors)
    shipping = sum(
        (
            money(s.get("price"), f"shipping_lines[{i}].price")
            for i, s in enumerate(items(data.get("shipping_lines")))
            if isinstance(s, dict)
        ),
        Decimal("0"),
    )
    tax = Decimal("0") if data.get("taxes_included") else money(data.get("total_tax"), "total_tax")
    customer = obj(data.get("customer"))
    street = " ".join(str(addr.get(k) or "").strip() for k in ("address1", "address2")).strip()
    canonical = {
        "channel": CHANNEL,
        "external_id": order_id,
        "customer": {
            "id": str(customer.get("id") or data.get("email") or f"shopify-guest-{order_id}"),
            "tier": _tier(data),
        },
        "lines": lines,
        "shipping_address": {
            "name": addr.get("name")
            or " ".join(filter(None, [addr.get("first_name"), addr.get("last_name")])),
            "phone": addr.get("phone") or data.get("phone") or customer.get("phone") or "",
            "province": addr.get("province") or addr.get("province_code") or "",
            "city": addr.get("city") or "",
            "district": "",
            "street": street,
            "postal_code": addr.get("zip") or "",
        },
        "payment": {"method": _payment_method(data), "payer_id": str(customer.get("id") or "")},
        "currency": data.get("currency") or "CNY",
        "shipping_fee": str(shipping),
        "tax": str(tax),
        "discount": str(money(data.get("total_discounts"), "total_discounts")),
        "total": str(money(need(data, "total_price", "total_price"), "total_price")),
        "placed_at": data.get("created_at"),
    }
    if data.get("financial_status") in ("partially_refunded", "refunded"):
        canonical["review"] = (
            f"Shopify says financial_status={data['financial_status']}: a refund is in flight"
        )
    if topic == "orders/updated":
        canonical["review"] = ""
    order = build_order(
        canonical,
        {
            "lines": "line_items",
            "shipping_address.name": "shipping_address.name",
            "shipping_address.phone": "shipping_address.phone",
            "shipping_address.province": "shipping_address.province",
            "shipping_address.city": "shipping_address.city",
            "shipping_address.street": "shipping_address.address1",
            "shipping_address": "shipping_address",
            "currency": "currency",
            "total": "total_price",
            "discount": "total_discounts",
            "tax": "total_tax",
            "shipping_fee": "shipping_lines",
            "customer": "customer",
            "body": "total_price",
            "external_id": "id",
        },
    )
    if topic == "orders/updated":  # the order as it is now: its address may have moved
        return Intake(kind="address", channel=CHANNEL, external_id=order_id, order=order)
    return Intake(kind="order", channel=CHANNEL, external_id=order_id, order=order)
