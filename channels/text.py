"""Orders typed into email, SMS or WeChat, in Chinese or English:
"我要3箱可口可乐330ml，送到上海市浦东新区张江路88号，电话13812345678".

The address is resolved to province/city/district with `cpca` (China's administrative
divisions); products are matched against the catalogue by name, SKU and the words of
both, each with a confidence. A match below the threshold, or two products too close to
call, still makes an order (with the best candidate) but flags it for review, listing the
candidates, so an operator confirms it.
"""

from __future__ import annotations

import hashlib
import re
import threading
import warnings
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any

from channels.base import Intake, PayloadError, build_order, fail, parse_json
from domain.errors import FieldError
from domain.model import Product

CHANNEL = "text"
CONFIDENT = 0.75
CLOSE_CALL = 0.08
_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = "箱件个瓶盒袋包台部份双条支罐提桶套听杯只"
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_ADDRESS_START = re.compile(
    r"(送到|寄到|送至|寄至|发到|地址[:：]?|收货地址[:：]?|deliver(?:ed)? to|ship(?:ped)? to|address[:：]?)",
    re.IGNORECASE,
)
_NAME = re.compile(
    r"(?:收件人|收货人|联系人|姓名|name)\s*[:：]?\s*([\u4e00-\u9fa5]{2,4}|[A-Za-z][A-Za-z .]{1,30})",
    re.IGNORECASE,
)
_QTY = re.compile(
    rf"(\d+|[{''.join(_CN_DIGITS)}十]+)\s*(?:[{_UNITS}]|x|×|boxes of|cases of|packs of|bottles of"
    rf"|pcs|pieces of|units of)?\s*",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"^(我要|我想要|要|买|请给我|帮我|麻烦|please|i want|i'd like|i would like|order|send me|want)\s*",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"[，,、;；+]|\band\b|和|还有|以及")
_cpca_lock = threading.Lock()


@dataclass
class Match:
    sku: str
    name: str
    confidence: float


def _cn_number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if "十" in token:
        tens, _, ones = token.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(token, 1)


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.lower()).replace("×", "x")


def match_product(phrase: str, products: list[Product]) -> list[Match]:
    """Candidates best first; confidence 0..1 from the similarity of the phrase to the
    product's name and SKU, and how much of the phrase the name contains."""
    wanted = _normal(phrase)
    scored = []
    for p in products:
        name, sku = _normal(p.name), _normal(p.sku)
        ratio = max(SequenceMatcher(None, wanted, name).ratio(), SequenceMatcher(None, wanted, sku).ratio())
        overlap = sum(1 for ch in set(wanted) if ch in name) / max(len(set(wanted)), 1)
        contained = 1.0 if wanted and (wanted in name or wanted in sku) else 0.0
        scored.append(
            Match(p.sku, p.name, round(max(ratio, 0.5 * overlap + 0.5 * contained, 0.9 * contained), 3))
        )
    return sorted(scored, key=lambda m: (-m.confidence, m.sku))


def _address(text: str) -> dict[str, str]:
    with _cpca_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca  # type: ignore[import-untyped]  # loads its dataset on first use (~1 s)

        row = cpca.transform([text]).to_dict("records")[0]
    province, city, district, rest = (row.get(k) or "" for k in ("省", "市", "区", "地址"))
    if city in ("市辖区", "县", ""):  # municipalities: the city is the province (上海市)
        city = province
    elif city == "省直辖县级行政区划":  # county-level cities governed by the province (济源市)
        city = district
    return {"province": province, "city": city, "district": district, "street": rest}


def _street(rest: str) -> str:
    rest = _PHONE.sub("", rest)
    rest = re.split(
        r"[，,。;；]?\s*(?:电话|手机|联系电话|tel|phone|收件人|收货人|联系人|姓名|name)",
        rest,
        flags=re.IGNORECASE,
    )[0]
    return rest.strip(" ，,。;；:：")


def message_of(raw: bytes) -> tuple[str, str]:
    """(message text, message id or ''): plain text, or JSON `{"message", "message_id", "sender"}`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail("body", f"not UTF-8 text (byte {exc.start} is invalid)") from None
    stripped = text.strip()
    if stripped.startswith("{"):
        data = parse_json(raw)
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            raise fail("message", "required: the text of the message")
        return data["message"].strip(), str(data.get("message_id") or "")
    return stripped, ""


def parse(raw: bytes, products: list[Product], sender: str = "") -> Intake:
    message, message_id = message_of(raw)
    if not message:
        raise fail("message", "empty message")
    if len(message) > 2000:
        raise fail("message", "longer than 2000 characters; is this an order?")
    external_id = message_id or "m" + hashlib.sha256(message.encode()).hexdigest()[:20]
    external_id = re.sub(r"[^A-Za-z0-9_.:-]", "-", external_id)[:80]
    phone = _PHONE.search(message)
    split = _ADDRESS_START.search(message)
    goods_part = message[: split.start()] if split else message
    goods_part = re.sub(
        r"(电话|手机|联系电话|tel|phone)?\s*[:：]?\s*1[3-9]\d{9}", "", goods_part, flags=re.IGNORECASE
    )
    address_part = message[split.end() :] if split else message
    errors: list[FieldError] = []
    if phone is None:
        errors.append(
            FieldError(field="message", reason="no mobile number (11 digits starting with 1) found")
        )
    lines: list[dict[str, Any]] = []
    review: list[str] = []
    for chunk in filter(None, (c.strip() for c in _SPLIT.split(goods_part))):
        chunk = _FILLER.sub("", chunk).strip()
        qty_match = _QTY.search(chunk)
        quantity = _cn_number(qty_match.group(1)) if qty_match else 1
        phrase = (chunk[: qty_match.start()] + chunk[qty_match.end() :]).strip() if qty_match else chunk
        phrase = _FILLER.sub("", phrase).strip()
        if not phrase:
            continue
        candidates = match_product(phrase, products)
        if not candidates or candidates[0].confidence < 0.35:
            errors.append(
                FieldError(field="message", reason=f"'{phrase}' matches no product in the catalogue")
            )
            continue
        best = candidates[0]
        runner_up = candidates[1] if len(candidates) > 1 else None
        if best.confidence < CONFIDENT or (runner_up and best.confidence - runner_up.confidence < CLOSE_CALL):
            listed = ", ".join(f"{c.sku} {c.name} ({c.confidence:.2f})" for c in candidates[:3])
            review.append(f"'{phrase}' -> {best.sku}? candidates: {listed}")
        price = next(p.unit_price for p in products if p.sku == best.sku)
        lines.append(
            {"sku": best.sku, "quantity": quantity, "unit_price": str(price), "_confidence": best.confidence}
        )
    if not lines and not errors:
        errors.append(
            FieldError(
                field="message", reason="no products found; write them as '3箱可口可乐' or '2 x COKE-330-24'"
            )
        )
    address = _address(address_part) if split or not errors else {}
    if not address.get("province"):
        errors.append(
            FieldError(
                field="message",
                reason="no delivery address with a province found (write it after 送到/寄到/deliver to)",
            )
        )
    if errors:
        raise PayloadError(errors)
    name_match = _NAME.search(message)
    assert phone is not None
    name = name_match.group(1).strip() if name_match else f"客户{phone.group(1)[-4:]}"
    subtotal = sum((Decimal(ln["unit_price"]) * ln["quantity"] for ln in lines), Decimal("0"))
    order = build_order(
        {
            "channel": CHANNEL,
            "external_id": external_id,
            "customer": {"id": sender or f"phone-{phone.group(1)}"},
            "lines": [{k: v for k, v in ln.items() if not k.startswith("_")} for ln in lines],
            "shipping_address": {
                "name": name,
                "phone": phone.group(1),
                "province": address["province"],
                "city": address["city"],
                "district": address["district"],
                "street": _street(address["street"]) or address["district"] or address["city"],
            },
            "payment": {"method": "cod"},
            "total": str(subtotal),
            "review": "; ".join(review),
        },
        {"body": "message", "shipping_address": "message", "lines": "message"},
    )
    notes: list[Any] = [f"{ln['sku']} x{ln['quantity']} (confidence {ln['_confidence']:.2f})" for ln in lines]
    return Intake(
        kind="order", channel=CHANNEL, external_id=external_id, order=order, notes=[str(n) for n in notes]
    )
