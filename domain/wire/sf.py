"""SF Express open-platform envelope: form fields with msgData (JSON) and msgDigest."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from typing import Any

from domain.tracking import TrackingState, problem_from_text
from domain.wire.events import CarrierEvent


def digest(msg_data: str, timestamp: str, checkword: str) -> str:
    encoded = urllib.parse.quote_plus(msg_data + timestamp + checkword)
    return base64.b64encode(hashlib.md5(encoded.encode()).digest()).decode()


# Route opCodes (as seen in SF pushes) -> Ordo's shipment states.
OP_COLLECTED = ("50", "54")
OP_IN_TRANSIT = ("30", "36", "31", "130")
OP_OUT_FOR_DELIVERY = ("204",)
OP_DELIVERED = ("80",)
OP_RETURNED = ("631",)
OP_PROBLEM = ("33", "70")  # held at an outlet / delivery failed; the remark says why


def state_of(op_code: str, remark: str = "") -> TrackingState:
    if op_code in OP_DELIVERED:
        return TrackingState.DELIVERED
    if op_code in OP_OUT_FOR_DELIVERY:
        return TrackingState.OUT_FOR_DELIVERY
    if op_code in OP_COLLECTED:
        return TrackingState.COLLECTED
    if op_code in OP_IN_TRANSIT:
        return TrackingState.IN_TRANSIT
    if op_code in OP_RETURNED:
        return TrackingState.RETURNED
    if op_code in OP_PROBLEM:
        state = problem_from_text(remark)
        return TrackingState.UNDELIVERABLE if state == TrackingState.INFO and op_code == "70" else state
    return TrackingState.INFO


def route_events(body: dict[str, Any]) -> list[CarrierEvent]:
    """SF route push `{"Body": {"WaybillRoute": [...]}}`; answered `{"return_code": "0000"}`."""
    return [CarrierEvent(waybill_no=str(r["mailno"]), reference=str(r.get("orderid", "")),
                         code=str(r["opCode"]), remark=str(r.get("remark", "")),
                         state=state_of(str(r["opCode"]), str(r.get("remark", ""))))
            for r in body["Body"]["WaybillRoute"]]


def route_push(waybill_no: str, order_id: str, seq: int, op_code: str, remark: str, at: str,
               city: str) -> dict[str, Any]:
    return {"Body": {"WaybillRoute": [{"id": f"{waybill_no}-{seq}", "mailno": waybill_no,
                                       "orderid": order_id, "opCode": op_code, "remark": remark,
                                       "acceptTime": at, "acceptAddress": city}]}}
