"""Ordo's own order format (`POST /v1/orders`): the JSON Schema is `ordo schema order`."""

from __future__ import annotations

from channels.base import Intake, build_order, fail, parse_json


def parse(raw: bytes) -> Intake:
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise fail("body", "expected a JSON object (an order)")
    order = build_order(data)
    return Intake(kind="order", channel=order.channel, external_id=order.external_id, order=order)
