"""Kuaidi100 subscription push (快递100 订阅推送): a form POST with `param` (JSON) and
`sign = upper(md5(param + salt))`, the salt agreed at subscription. `param.lastResult` carries
`com` (carrier), `nu` (waybill), `state` and `data[{context, time, status}]` newest first;
answered `{"result": true, "returnCode": "200"}` or it is sent again.

States: 0 in transit, 1 collected, 2 problem, 3 signed, 4 return-signed, 5 out for delivery,
6 returning, 7 rerouted. A problem's kind is only in the text (`context`)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from domain.rating import BEIJING
from domain.tracking import TrackingState, problem_from_text
from domain.wire.events import CarrierEvent

STATES = {
    "0": TrackingState.IN_TRANSIT,
    "1": TrackingState.COLLECTED,
    "3": TrackingState.DELIVERED,
    "4": TrackingState.RETURNED,
    "5": TrackingState.OUT_FOR_DELIVERY,
    "6": TrackingState.RETURNED,
    "7": TrackingState.IN_TRANSIT,
}
ACK = {"result": True, "returnCode": "200", "message": "成功"}


def sign(param: str, salt: str) -> str:
    return hashlib.md5((param + salt).encode()).hexdigest().upper()


def state_of(state: str, context: str = "") -> TrackingState:
    if state == "2":
        return problem_from_text(context)
    return STATES.get(state, TrackingState.INFO)


def event_time(item: dict[str, Any]) -> datetime | None:
    """`ftime` (or `time`), "YYYY-MM-DD HH:MM:SS" in Beijing time; None if absent or garbled."""
    text = str(item.get("ftime") or item.get("time") or "")
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def push_events(param: dict[str, Any]) -> list[CarrierEvent]:
    last = param["lastResult"]
    history = last.get("data") or [{}]
    context = str(history[0].get("context", ""))
    return [
        CarrierEvent(
            waybill_no=str(last["nu"]),
            code=str(last["state"]),
            remark=context,
            state=state_of(str(last["state"]), context),
            history_from=event_time(history[-1]),  # newest first: the last is the first step
        )
    ]


def push_form(com: str, nu: str, state: str, history: list[dict[str, str]], salt: str) -> dict[str, str]:
    """What Kuaidi100 posts: the whole history so far, newest first."""
    param = json.dumps(
        {
            "status": "polling",
            "billstatus": "got",
            "message": "",
            "lastResult": {
                "message": "ok",
                "nu": nu,
                "ischeck": "1" if state == "3" else "0",
                "condition": "",
                "com": com,
                "status": "200",
                "state": state,
                "data": history,
            },
        },
        ensure_ascii=False,
    )
    return {"param": param, "sign": sign(param, salt)}
