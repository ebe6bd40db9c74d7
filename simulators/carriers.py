"""Carrier stand-ins speaking SF Express's open-platform envelope (create, cancel) and pushing
SF-style route events back to Ordo, for every carrier code Ordo is configured with.

Behaviour worth testing against: `orderId` is idempotent (the same id returns the first
waybill), addresses containing UNDELIVERABLE are refused (filterResult 3), and parcels to
addresses containing LOST stop moving after departure.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request

from config.settings import get_settings
from domain.wire import sf
from simulators.faults import Faults

PREFIX = {"sf": "SF", "zto": "ZT", "jd": "JDV", "yto": "YT"}
JOURNEY = [("50", "已揽收 collected"), ("30", "分拣中 sorted"), ("36", "已发车 departed"),
           ("31", "到达 arrived"), ("204", "派送中 out for delivery"), ("80", "已签收 delivered")]


def create_app(faults: Faults | None = None, push_url: str | None = None,
               step_seconds: float | None = None) -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Ordo carrier simulator (SF-style)")
    faults = faults or Faults()
    push_url = push_url if push_url is not None else os.environ.get(
        "ORDO_SIM_PUSH_URL", f"{settings.api_url}/v1/carriers")
    step = step_seconds if step_seconds is not None else float(
        os.environ.get("ORDO_SIM_TRACKING_STEP_SECONDS", "1.0"))
    waybills: dict[str, dict[str, Any]] = {}  # (carrier:orderId) -> record
    numbers = itertools.count(7444400000001)
    tasks: set[asyncio.Task[None]] = set()

    def reply(ok: bool, data: dict[str, Any] | None = None, code: str = "S0000",
              msg: str = "") -> dict[str, Any]:
        return {"apiResultCode": "A1000", "apiErrorMsg": "",
                "apiResultData": json.dumps({"success": ok, "errorCode": code, "errorMsg": msg,
                                             "msgData": data or {}}, ensure_ascii=False)}

    async def journey(carrier: str, rec: dict[str, Any]) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            for n, (op, remark) in enumerate(JOURNEY):
                if step:
                    await asyncio.sleep(step)
                if rec["cancelled"] or (rec["lost"] and n > 2):
                    return
                rec["route"].append(op)
                event = {"id": f"{rec['waybill']}-{n}", "mailno": rec["waybill"],
                         "orderid": rec["orderId"], "opCode": op, "remark": remark,
                         "acceptTime": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                         "acceptAddress": rec["city"]}
                for _ in range(20):  # like SF, retry a push until it is acknowledged
                    with contextlib.suppress(httpx.HTTPError):
                        r = await client.post(f"{push_url}/{carrier}/routes",
                                              json={"Body": {"WaybillRoute": [event]}},
                                              headers={"X-Ordo-Push-Secret": settings.carrier_push_secret})
                        if r.status_code == 200 and r.json().get("return_code") == "0000":
                            break
                    await asyncio.sleep(max(step, 0.2))

    @app.post("/{carrier}/std/service")
    async def service(carrier: str, request: Request) -> dict[str, Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if form.get("msgDigest") != sf.digest(form.get("msgData", ""), form.get("timestamp", ""),
                                              settings.sf_checkword):
            return {"apiResultCode": "A1006", "apiErrorMsg": "invalid msgDigest", "apiResultData": ""}
        faults.maybe_fail("before")
        data = json.loads(form.get("msgData", "{}"))
        code = form.get("serviceCode", "")
        if code == "EXP_RECE_CREATE_ORDER":
            order_id = data.get("orderId", "")
            contacts = data.get("contactInfoList", [])
            receiver: dict[str, Any] = next((c for c in contacts if c.get("contactType") == 2), {})
            if not order_id or not receiver:
                return {"apiResultCode": "A1001", "apiErrorMsg": "orderId and receiver are required",
                        "apiResultData": ""}
            key = f"{carrier}:{order_id}"
            if "UNDELIVERABLE" in receiver.get("address", ""):
                return reply(True, {"orderId": order_id, "filterResult": 3,
                                    "remark": "address not deliverable"})
            if key not in waybills:
                rec = {"orderId": order_id, "waybill": f"{PREFIX.get(carrier, 'XX')}{next(numbers)}",
                       "cancelled": False, "lost": "LOST" in receiver.get("address", ""),
                       "route": [], "city": receiver.get("city", "")}
                waybills[key] = rec
                if push_url and step >= 0:  # no push URL: the caller plays the carrier
                    task = asyncio.create_task(journey(carrier, rec))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            faults.maybe_fail("after")
            rec = waybills[key]
            return reply(True, {"orderId": order_id, "filterResult": 2, "originCode": "755",
                                "destCode": "021", "waybillNoInfoList": [
                                    {"waybillType": 1, "waybillNo": rec["waybill"]}]})
        if code == "EXP_RECE_UPDATE_ORDER" and str(data.get("dealType")) == "2":
            found = waybills.get(f"{carrier}:{data.get('orderId', '')}")
            if found is None:
                return reply(False, code="8018", msg="order not found")
            if found["route"] and found["route"][0] in sf.OP_COLLECTED:
                return reply(False, code="8037", msg="already collected, cannot cancel")
            found["cancelled"] = True
            return reply(True, {"orderId": found["orderId"], "resStatus": 2})
        return reply(False, code="8000", msg=f"unsupported serviceCode {code}")

    @app.get("/admin/waybills")
    async def admin() -> dict[str, Any]:
        return {"waybills": waybills, "faults_injected": faults.injected}

    return app


app = create_app()
