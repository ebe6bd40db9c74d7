"""JD (Jingdong) POP orders in the `jingdong.pop.order.get` shape (JD spells the wrapper
"responce"), or a bare `orderInfo`. Every field is a string, money and quantities too.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from channels.base import Intake, PayloadError, build_order, fail, money, need, obj, parse_json
from domain.errors import FieldError

CHANNEL = "jd"
CST = timezone(timedelta(hours=8))
CANCELLED = ("TRADE_CANCELED",)
ON_HOLD = ("LOCKED", "PAUSE")


def _int(value: Any, path: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise fail(path, f"'{value}' is not a whole number") from None


def order_of(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and "jingdong_pop_order_get_responce" in data:
        resp = obj(data["jingdong_pop_order_get_responce"])
        if str(resp.get("code", "0")) != "0":
            raise fail("jingdong_pop_order_get_responce.code", f"JD returned error code {resp.get('code')}")
        data = obj(resp.get("orderDetailInfo")).get("orderInfo")
    if isinstance(data, dict) and "error_response" in data:
        err = obj(data["error_response"])
        raise fail(
            "error_response", f"JD error {err.get('code')}: {err.get('en_desc') or err.get('zh_desc')}"
        )
    if not isinstance(data, dict):
        raise fail("orderInfo", "expected a JD orderInfo object")
    return data


def parse(raw: bytes) -> Intake:
    info = order_of(parse_json(raw))
    order_id = str(need(info, "orderId", "orderInfo.orderId"))
    state = str(info.get("orderState") or "")
    if state in CANCELLED:
        return Intake(
            kind="cancel", channel=CHANNEL, external_id=order_id, reason=f"cancelled on JD ({state})"
        )
    items = info.get("itemInfoList")
    if not isinstance(items, list) or not items:
        raise fail("orderInfo.itemInfoList", "required: at least one item")
    lines: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        path = f"orderInfo.itemInfoList[{i}]"
        if not isinstance(item, dict):
            errors.append(FieldError(field=path, reason="expected an object"))
            continue
        sku = item.get("outerSkuId") or item.get("skuId")
        if not sku:
            errors.append(FieldError(field=f"{path}.outerSkuId", reason="required: the merchant SKU"))
            continue
        lines.append(
            {
                "sku": str(sku),
                "quantity": _int(item.get("itemTotal"), f"{path}.itemTotal"),
                "unit_price": str(money(item.get("jdPrice"), f"{path}.jdPrice")),
            }
        )
    if errors:
        raise PayloadError(errors)
    subtotal = sum((Decimal(ln["unit_price"]) * ln["quantity"] for ln in lines), Decimal("0"))
    shipping = money(info.get("freightPrice"), "orderInfo.freightPrice")
    paid = money(need(info, "orderPayment", "orderInfo.orderPayment"), "orderInfo.orderPayment") + money(
        info.get("balanceUsed"), "orderInfo.balanceUsed"
    )
    discount = subtotal + shipping - paid
    if discount < 0:
        raise fail(
            "orderInfo.orderPayment",
            f"the buyer paid {paid} yuan, more than the goods ({subtotal}) plus freight ({shipping})",
        )
    consignee = info.get("consigneeInfo")
    if not isinstance(consignee, dict):
        raise fail("orderInfo.consigneeInfo", "required: the delivery address")
    try:
        placed = datetime.strptime(str(info.get("orderStartTime")), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    except ValueError:
        placed = None
    canonical = {
        "channel": CHANNEL,
        "external_id": order_id,
        "customer": {"id": str(info.get("pin") or f"jd-{order_id}")},
        "lines": lines,
        "shipping_address": {
            "name": consignee.get("fullname") or "",
            "phone": consignee.get("mobile") or consignee.get("telephone") or "",
            "province": consignee.get("province") or "",
            "city": consignee.get("city") or "",
            "district": consignee.get("county") or "",
            "street": consignee.get("fullAddress") or "",
        },
        "payment": {"method": "cod" if str(info.get("payType")) == "1" else "card"},
        "shipping_fee": str(shipping),
        "discount": str(discount),
        "total": str(paid),
        "placed_at": placed.isoformat() if placed else None,
        "review": f"JD order state {state}" if state in ON_HOLD else "",
    }
    order = build_order(
        canonical,
        {
            "lines": "orderInfo.itemInfoList",
            "shipping_address.name": "orderInfo.consigneeInfo.fullname",
            "shipping_address.phone": "orderInfo.consigneeInfo.mobile",
            "shipping_address.province": "orderInfo.consigneeInfo.province",
            "shipping_address.city": "orderInfo.consigneeInfo.city",
            "shipping_address.street": "orderInfo.consigneeInfo.fullAddress",
            "total": "orderInfo.orderPayment",
            "body": "orderInfo.orderPayment",
            "external_id": "orderInfo.orderId",
        },
    )
    return Intake(kind="order", channel=CHANNEL, external_id=order_id, order=order)
