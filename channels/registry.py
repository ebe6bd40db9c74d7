"""Which adapter reads which channel's payloads."""

from __future__ import annotations

from collections.abc import Sequence

from channels import canonical, erp, jd, shopify, taobao, text
from channels.base import Intake, fail
from domain.model import Product

JSON_CHANNELS = ("canonical", "shopify", "taobao", "tmall", "jd", "erp")
SINGLE = (*JSON_CHANNELS, "text")
ALL = (*SINGLE, "pos")


def parse(channel: str, raw: bytes, topic: str = "", products: Sequence[Product] = ()) -> Intake:
    """One payload of a single-order channel (POS batches go through `pos_csv`)."""
    if channel == "canonical":
        return canonical.parse(raw)
    if channel == "shopify":
        return shopify.parse(raw, topic or "orders/create")
    if channel in ("taobao", "tmall"):
        return taobao.parse(raw, channel)
    if channel == "jd":
        return jd.parse(raw)
    if channel == "erp":
        return erp.parse(raw)
    if channel == "text":
        return text.parse(raw, list(products))
    raise fail("channel", f"unknown channel '{channel}'; Ordo reads {', '.join(ALL)}")
