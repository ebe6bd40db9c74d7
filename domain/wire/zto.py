"""ZTO open API (`zto.open.createOrder`): JSON bodies signed with x-dataDigest =
base64(md5(body + appSecret)); answers `{status, statusCode "0000", message, result{billCode,
orderCode}}`. Its trace push names each step by action (GOT, DEPARTURE, ARRIVAL, DISPATCH,
SIGNED; PROBLEM and RETURN with a description); the push body here is simplified to a list of
those steps under `data`."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from domain.tracking import TrackingState, problem_from_text
from domain.wire.events import CarrierEvent

ACTIONS = {
    "GOT": TrackingState.COLLECTED,
    "DEPARTURE": TrackingState.IN_TRANSIT,
    "ARRIVAL": TrackingState.IN_TRANSIT,
    "DISPATCH": TrackingState.OUT_FOR_DELIVERY,
    "SIGNED": TrackingState.DELIVERED,
    "RETURN": TrackingState.RETURNED,
}


def digest(body: str, secret: str) -> str:
    return base64.b64encode(hashlib.md5((body + secret).encode()).digest()).decode()


def state_of(action: str, desc: str = "") -> TrackingState:
    if action == "PROBLEM":
        return problem_from_text(desc)
    return ACTIONS.get(action, TrackingState.INFO)


def push_events(body: dict[str, Any]) -> list[CarrierEvent]:
    return [
        CarrierEvent(
            waybill_no=str(d["billCode"]),
            reference=str(d.get("orderCode", "")),
            code=str(d["action"]),
            remark=str(d.get("desc", "")),
            state=state_of(str(d["action"]), str(d.get("desc", ""))),
        )
        for d in body["data"]
    ]


def push(bill_code: str, order_code: str, action: str, desc: str, at: str, site: str) -> dict[str, Any]:
    return {
        "data": [
            {
                "billCode": bill_code,
                "orderCode": order_code,
                "action": action,
                "desc": desc,
                "actionTime": at,
                "facilityName": site,
            }
        ]
    }
