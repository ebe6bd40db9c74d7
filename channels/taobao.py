"""Taobao / Tmall trades in the TOP `taobao.trade.fullinfo.get` shape (the response
wrapper or the bare `trade`), as fetched after a TMC `TradeBuyerPay` message.

Ids are numbers beyond 2^53 (`tid_str` is preferred when present); money is yuan in
strings; receiver fields may be masked (`张**`) until decrypted by `oaid`. A line whose
refund succeeded is left out; a refund still being decided sends the order to an
operator; a closed trade cancels the order.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from channels.base import Intake, PayloadError, build_order, fail, money, need, parse_json
from domain.errors import FieldError

CST = timezone(timedelta(hours=8))
PAID = ("WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART", "PAID_FORBID_CONSIGN")
CLOSED = ("TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO")
REFUND_DONE = ("SUCCESS",)
REFUND_OPEN = ("WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS")


def _when(value: Any) -> str | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).isoformat()
    except ValueError:
        return None


def trade_of(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and "trade_fullinfo_get_response" in data:
        response = data["trade_fullinfo_get_response"]
        data = response.get("trade") if isinstance(response, dict) else None
    elif isinstance(data, dict) and "trade" in data and isinstance(data["trade"], dict):
        data = data["trade"]
    if not isinstance(data, dict):
        raise fail("trade", "expected a trade object (taobao.trade.fullinfo.get response or its trade)")
    return data


def parse(raw: bytes, channel: str = "taobao") -> Intake:
    trade = trade_of(parse_json(raw))
    tid = str(trade.get("tid_str") or need(trade, "tid", "trade.tid"))
    status = str(trade.get("status") or "")
    if status in CLOSED:
        return Intake(
            kind="cancel", channel=channel, external_id=tid, reason=f"trade closed on {channel} ({status})"
        )
    if status not in PAID:
        raise fail(
            "trade.status",
            f"'{status or 'missing'}' is not a paid trade: Ordo takes trades from "
            "WAIT_SELLER_SEND_GOODS on; send it again once the buyer has paid",
        )
    orders = (trade.get("orders") or {}).get("order") if isinstance(trade.get("orders"), dict) else None
    if not isinstance(orders, list) or not orders:
        raise fail("trade.orders.order", "required: at least one order line")
    lines: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    review: list[str] = []
    refunded = Decimal("0")
    for i, line in enumerate(orders):
        path = f"trade.orders.order[{i}]"
        if not isinstance(line, dict):
            errors.append(FieldError(field=path, reason="expected an object"))
            continue
        refund = str(line.get("refund_status") or "NO_REFUND")
        if refund in REFUND_DONE:
            refunded += money(line.get("payment"), f"{path}.payment")
            continue
        if refund in REFUND_OPEN:
            review.append(f"line {line.get('oid')}: refund {refund}")
        sku = line.get("outer_sku_id") or line.get("outer_iid")
        if not sku:
            errors.append(
                FieldError(
                    field=f"{path}.outer_sku_id",
                    reason="empty: set the merchant SKU (商家编码) on the item in Qianniu",
                )
            )
            continue
        lines.append(
            {
                "sku": str(sku),
                "quantity": line.get("num"),
                "unit_price": str(money(line.get("price"), f"{path}.price")),
                "channel_line_id": str(line.get("oid_str") or line.get("oid") or ""),
            }
        )
    if errors:
        raise PayloadError(errors)
    if not lines:
        return Intake(kind="cancel", channel=channel, external_id=tid, reason="every line was refunded")
    subtotal = sum((Decimal(ln["unit_price"]) * int(ln["quantity"] or 0) for ln in lines), Decimal("0"))
    shipping = money(trade.get("post_fee"), "trade.post_fee")
    total = money(need(trade, "payment", "trade.payment"), "trade.payment") - refunded
    discount = subtotal + shipping - total  # Taobao spreads discounts over lines and the trade
    if discount < 0:
        raise fail(
            "trade.payment",
            f"the buyer paid {total} yuan, more than the goods ({subtotal}) plus "
            f"post_fee ({shipping}): check adjust_fee",
        )
    city = trade.get("receiver_city") or trade.get("receiver_district")  # county-level city quirk
    street = "".join(str(trade.get(k) or "") for k in ("receiver_town", "receiver_address"))
    canonical = {
        "channel": channel,
        "external_id": tid,
        "customer": {"id": str(trade.get("buyer_open_uid") or trade.get("buyer_nick") or f"{channel}-{tid}")},
        "lines": lines,
        "shipping_address": {
            "name": trade.get("receiver_name") or "",
            "phone": trade.get("receiver_mobile") or trade.get("receiver_phone") or "",
            "province": trade.get("receiver_state") or "",
            "city": city or "",
            "district": trade.get("receiver_district") or "",
            "street": street,
            "postal_code": trade.get("receiver_zip") or "",
        },
        "payment": {"method": "alipay", "payer_id": str(trade.get("buyer_open_uid") or "")},
        "shipping_fee": str(shipping),
        "discount": str(discount),
        "total": str(total),
        "placed_at": _when(trade.get("pay_time") or trade.get("created")),
        "review": "; ".join(review),
    }
    order = build_order(
        canonical,
        {
            "lines": "trade.orders.order",
            "shipping_address.name": "trade.receiver_name",
            "shipping_address.phone": "trade.receiver_mobile",
            "shipping_address.province": "trade.receiver_state",
            "shipping_address.city": "trade.receiver_city",
            "shipping_address.street": "trade.receiver_address",
            "total": "trade.payment",
            "body": "trade.payment",
            "external_id": "trade.tid",
        },
    )
    return Intake(kind="order", channel=channel, external_id=tid, order=order)
