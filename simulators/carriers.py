"""Carrier stand-ins, each speaking its real carrier's API, pushing tracking back to Ordo.

- SF Express (`/{carrier}/std/service`, EXP_RECE_CREATE_ORDER / UPDATE_ORDER), route pushes;
- ZTO (`/{carrier}/zto.open.createOrder`, `cancelPreOrder`), trace pushes by action;
- JD Logistics (`/{carrier}/routerjson`, JOS `jingdong.ldop.waybill.receive`), tracking via
  Kuaidi100 pushes;
- DHL Express (`/{carrier}/mydhlapi/shipments`, MyDHL), tracking via Kuaidi100 pushes.

Every booking is idempotent by the caller's order id. Pushes go to
`{push_url}/{carrier}/events` and are repeated until acknowledged.

What the receiver's street sets off, to test against: UNDELIVERABLE is refused at booking;
LOST goes silent after departure; MISSING is reported lost; DAMAGED is reported damaged
on arrival; NOBODY is undeliverable at the door. Only the first parcel suffers it: a reship
(`...-g2`) travels normally. Coverage gaps (no ZTO or DHL into Tibet,
no DHL into Xinjiang) are refused like the real ones refuse them. A carrier listed in
`down` (or `ORDO_SIM_CARRIERS_DOWN`) answers 503 to everything. Return labels (ids
starting `R-`) are booked but not tracked: the warehouse's receipt is what Ordo waits for.

Waybills and the numbering live in a `SimState` (under `var/sim/` in the embedded stack): a
restarted carrier still knows its parcels and carries on pushing each one's journey from the
last step Ordo acknowledged. `PUT /admin/numbering` makes it hand out old numbers again, as
real carriers recycle them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from config.settings import get_settings
from domain.geo import normalise_province
from domain.rating import BEIJING
from domain.tracking import TrackingState
from domain.wire import jdl, kuaidi100, sf, zto
from simulators.faults import Faults
from simulators.outbound import Outbound
from simulators.state import SimState, state_dir

FIRST_NUMBER = 7444400000001
PREFIX = {"sf": "SF", "zto": "7", "jd": "JDV", "dhl": "", "ems": "E"}
NO_COVERAGE = {"zto": {"西藏"}, "dhl": {"西藏", "新疆"}}
KUAIDI100_COM = {"jd": "jd", "dhl": "dhl"}

# (normalised step, SF opCode, ZTO action, Kuaidi100 state, text)
JOURNEY = [
    (TrackingState.COLLECTED, "50", "GOT", "1", "已揽收 collected"),
    (TrackingState.IN_TRANSIT, "36", "DEPARTURE", "0", "已发车 departed"),
    (TrackingState.IN_TRANSIT, "31", "ARRIVAL", "0", "到达目的地 arrived"),
    (TrackingState.OUT_FOR_DELIVERY, "204", "DISPATCH", "5", "派送中 out for delivery"),
    (TrackingState.DELIVERED, "80", "SIGNED", "3", "已签收 delivered"),
]
PROBLEMS = {  # street keyword -> (after which step, SF opCode, text)
    "MISSING": (1, "33", "快件遗失 parcel lost"),
    "DAMAGED": (2, "33", "快件破损 parcel damaged"),
    "NOBODY": (3, "70", "收件人无法联系 nobody to receive it, undeliverable"),
}


def create_app(
    faults: Faults | None = None,
    push_url: str | None = None,
    step_seconds: float | None = None,
    down: set[str] | None = None,
    state: SimState | None = None,
) -> FastAPI:
    settings = get_settings()
    outbound = Outbound(timeout=5)

    @contextlib.asynccontextmanager
    async def resume_journeys(_: FastAPI) -> AsyncIterator[None]:
        for key, rec in waybills.items():
            if tracked(rec) and not rec["cancelled"] and not rec.get("done"):
                follow(key.split(":", 1)[0], rec)
        yield
        for task in list(tasks):  # a stopped simulator stops its journeys; the state file resumes them
            task.cancel()
        await outbound.aclose()

    app = FastAPI(title="Ordo carrier simulator (SF, ZTO, JD Logistics, DHL)", lifespan=resume_journeys)
    faults = faults or Faults()
    faults.install(app)
    push_url = (
        push_url
        if push_url is not None
        else os.environ.get("ORDO_SIM_PUSH_URL", f"{settings.api_url}/v1/carriers")
    )
    step = (
        step_seconds
        if step_seconds is not None
        else float(os.environ.get("ORDO_SIM_TRACKING_STEP_SECONDS", "1.0"))
    )
    app.state.down = set(
        down if down is not None else filter(None, os.environ.get("ORDO_SIM_CARRIERS_DOWN", "").split(","))
    )
    state = state or SimState("carriers", state_dir())
    waybills = state.records("waybills")  # "carrier:orderId" -> booking
    numbers = state.counter("numbers", FIRST_NUMBER)
    tasks: set[asyncio.Task[None]] = set()

    answering = asyncio.Event()
    answering.set()
    tracking = asyncio.Event()  # cleared: parcels wait at the depot, no tracking is pushed
    tracking.set()

    async def answered() -> None:
        """The booking is made; its answer waits while answers are held (`PUT /admin/answers`),
        as a stuck carrier's does. A cancellation may arrive meanwhile."""
        await answering.wait()

    def now() -> str:
        """Carriers write times as Beijing time."""
        return datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")

    def available(carrier: str) -> None:
        if carrier in app.state.down:
            raise HTTPException(status_code=503, detail=f"{carrier} is down (simulated outage)")
        faults.maybe_fail("before")

    def refusal(carrier: str, province: str, street: str) -> str:
        if "UNDELIVERABLE" in street:
            return "address not deliverable"
        if normalise_province(province) in NO_COVERAGE.get(carrier, set()):
            return f"no service to {province}"
        return ""

    def book(
        carrier: str, protocol: str, order_id: str, province: str, city: str, street: str
    ) -> dict[str, Any]:
        key = f"{carrier}:{order_id}"
        if key not in waybills:
            first = "-g" not in order_id  # a reship travels normally
            problem = next((k for k in PROBLEMS if k in street), "") if first else ""
            rec = {
                "orderId": order_id,
                "waybill": f"{PREFIX.get(carrier, 'X')}{next(numbers)}",
                "protocol": protocol,
                "cancelled": False,
                "lost": "LOST" in street and first,
                "problem": problem,
                "route": [],
                "city": city,
                "province": province,
                "street": street,  # what the label says: the carrier keeps it, as carriers do
            }
            waybills[key] = rec
            if tracked(rec):
                follow(carrier, rec)
        return waybills[key]

    def tracked(rec: dict[str, Any]) -> bool:
        return bool(push_url) and step >= 0 and not str(rec["orderId"]).startswith("R-")

    def follow(carrier: str, rec: dict[str, Any]) -> None:
        task = asyncio.create_task(journey(carrier, rec))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def save(carrier: str, rec: dict[str, Any]) -> None:
        """Write a booking changed in place (its key as `book` made it)."""
        waybills.save(f"{carrier}:{rec['orderId']}")

    def push_request(
        carrier: str,
        rec: dict[str, Any],
        n: int,
        state: TrackingState,
        sf_code: str,
        zto_action: str,
        k100_state: str,
        text: str,
    ) -> dict[str, Any]:
        url = f"{push_url}/{carrier}/events"
        headers = {"X-Ordo-Push-Secret": settings.carrier_push_secret}
        if rec["protocol"] == "sf":
            return {
                "url": url,
                "headers": headers,
                "json": sf.route_push(rec["waybill"], rec["orderId"], n, sf_code, text, now(), rec["city"]),
            }
        if rec["protocol"] == "zto":
            return {
                "url": url,
                "headers": headers,
                "json": zto.push(rec["waybill"], rec["orderId"], zto_action, text, now(), rec["city"]),
            }
        if len(rec.setdefault("history", [])) <= n:  # a resumed journey re-sends, it does not repeat
            rec["history"].insert(
                0,
                {"context": text, "time": now(), "ftime": now(), "status": state.value,
                 "areaName": rec["city"]},
            )
        return {
            "url": url,
            "data": kuaidi100.push_form(
                KUAIDI100_COM.get(carrier, carrier),
                rec["waybill"],
                k100_state,
                rec["history"],
                settings.kuaidi100_salt,
            ),
        }

    async def journey(carrier: str, rec: dict[str, Any]) -> None:
        await answered()  # a carrier too stuck to answer a booking collects nothing either
        await tracking.wait()
        client = outbound.client
        for n, (state, sf_code, action, k100, text) in enumerate(JOURNEY):
            if n < rec.get("acked", 0):  # delivered before a restart
                continue
            if step:
                await asyncio.sleep(step)
            if rec["cancelled"] or (rec["lost"] and n > 1):
                rec["done"] = True
                save(carrier, rec)
                return
            problem = PROBLEMS.get(rec["problem"])
            if problem and n > problem[0]:
                state, sf_code, action, k100, text = (
                    TrackingState.INFO,
                    problem[1],
                    "PROBLEM",
                    "2",
                    problem[2],
                )
            if len(rec["route"]) <= n:
                rec["route"].append(sf_code)
            req = push_request(carrier, rec, n, state, sf_code, action, k100, text)
            save(carrier, rec)
            for attempt in range(60):  # like the carriers, push until acknowledged
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    r = await client.post(**req)
                    if (
                        r.status_code == 200
                        and r.json().get("return_code", "0000") == "0000"
                        and r.json().get("result", True)
                    ):
                        break
                await asyncio.sleep(max(step, min(0.2 * (attempt + 1), 2.0)))  # backing off: ~100 s
            else:  # never acknowledged: the carrier gives up on telling, as real ones do
                rec["abandoned"] = rec["done"] = True
                save(carrier, rec)
                return
            rec["acked"] = n + 1
            rec["done"] = action == "PROBLEM" or n + 1 == len(JOURNEY)
            save(carrier, rec)
            if action == "PROBLEM":
                return

    # ---- SF Express ---------------------------------------------------------------

    def sf_reply(
        ok: bool, data: dict[str, Any] | None = None, code: str = "S0000", msg: str = ""
    ) -> dict[str, Any]:
        return {
            "apiResultCode": "A1000",
            "apiErrorMsg": "",
            "apiResultData": json.dumps(
                {"success": ok, "errorCode": code, "errorMsg": msg, "msgData": data or {}}, ensure_ascii=False
            ),
        }

    @app.post("/{carrier}/std/service")
    async def sf_service(carrier: str, request: Request) -> dict[str, Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if form.get("msgDigest") != sf.digest(
            form.get("msgData", ""), form.get("timestamp", ""), settings.sf_checkword
        ):
            return {"apiResultCode": "A1006", "apiErrorMsg": "invalid msgDigest", "apiResultData": ""}
        available(carrier)
        data = json.loads(form.get("msgData", "{}"))
        code = form.get("serviceCode", "")
        if code == "EXP_RECE_CREATE_ORDER":
            order_id = data.get("orderId", "")
            receiver: dict[str, Any] = next(
                (c for c in data.get("contactInfoList", []) if c.get("contactType") == 2), {}
            )
            if not order_id or not receiver:
                return {
                    "apiResultCode": "A1001",
                    "apiErrorMsg": "orderId and receiver are required",
                    "apiResultData": "",
                }
            if why := refusal(carrier, receiver.get("province", ""), receiver.get("address", "")):
                return sf_reply(True, {"orderId": order_id, "filterResult": 3, "remark": why})
            rec = book(
                carrier,
                "sf",
                order_id,
                receiver.get("province", ""),
                receiver.get("city", ""),
                receiver.get("address", ""),
            )
            await answered()
            faults.maybe_fail("after")
            return sf_reply(
                True,
                {
                    "orderId": order_id,
                    "filterResult": 2,
                    "originCode": "755",
                    "destCode": "021",
                    "waybillNoInfoList": [{"waybillType": 1, "waybillNo": rec["waybill"]}],
                },
            )
        if code == "EXP_RECE_UPDATE_ORDER" and str(data.get("dealType")) == "2":
            found = waybills.get(f"{carrier}:{data.get('orderId', '')}")
            if found is None:
                return sf_reply(False, code="8018", msg="order not found")
            if found["route"]:
                return sf_reply(False, code="8037", msg="already collected, cannot cancel")
            found["cancelled"] = True
            save(carrier, found)
            return sf_reply(True, {"orderId": found["orderId"], "resStatus": 2})
        return sf_reply(False, code="8000", msg=f"unsupported serviceCode {code}")

    # ---- ZTO ----------------------------------------------------------------------

    async def zto_body(request: Request) -> dict[str, Any]:
        raw = (await request.body()).decode()
        if request.headers.get("x-dataDigest") != zto.digest(raw, settings.zto_secret):
            raise _Answer({"status": False, "statusCode": "S01", "message": "数据签名错误 bad digest"})
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    @app.post("/{carrier}/zto.open.createOrder")
    async def zto_create(carrier: str, request: Request) -> dict[str, Any]:
        data = await zto_body(request)
        available(carrier)
        receiver = data.get("receiveInfo", {})
        order_id = data.get("partnerOrderCode", "")
        if not order_id or not receiver.get("receiverAddress"):
            return {
                "status": False,
                "statusCode": "E001",
                "message": "partnerOrderCode and receiveInfo required",
            }
        if why := refusal(carrier, receiver.get("receiverProvince", ""), receiver["receiverAddress"]):
            return {"status": False, "statusCode": "E113", "message": why}
        rec = book(
            carrier,
            "zto",
            order_id,
            receiver.get("receiverProvince", ""),
            receiver.get("receiverCity", ""),
            receiver["receiverAddress"],
        )
        await answered()
        faults.maybe_fail("after")
        return {
            "status": True,
            "statusCode": "0000",
            "message": "",
            "result": {
                "billCode": rec["waybill"],
                "orderCode": order_id,
                "siteCode": "02100",
                "siteName": "上海中转",
            },
        }

    @app.post("/{carrier}/zto.open.cancelPreOrder")
    async def zto_cancel(carrier: str, request: Request) -> dict[str, Any]:
        data = await zto_body(request)
        available(carrier)
        found = waybills.get(f"{carrier}:{data.get('partnerOrderCode', '')}")
        if found is None:
            return {"status": False, "statusCode": "E404", "message": "order not found"}
        if found["route"]:
            return {"status": False, "statusCode": "E409", "message": "already collected"}
        found["cancelled"] = True
        save(carrier, found)
        return {"status": True, "statusCode": "0000", "message": "", "result": {}}

    # ---- JD Logistics (JOS) -------------------------------------------------------

    @app.post("/{carrier}/routerjson")
    async def jd_router(carrier: str, request: Request) -> dict[str, Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if form.get("sign") != jdl.sign(form, settings.jd_secret):
            return {
                "error_response": {"code": "19", "zh_desc": "sign 签名不正确", "en_desc": "Invalid signature"}
            }
        available(carrier)
        method = form.get("method", "")
        data = json.loads(form.get("360buy_param_json", "{}"))
        key = jdl.response_key(method)
        if method == jdl.RECEIVE:
            if why := refusal(carrier, data.get("province", ""), data.get("receiveAddress", "")):
                return {
                    key: {"code": "0", "receiveorderinfo_result": {"resultCode": 119, "resultMessage": why}}
                }
            rec = book(
                carrier,
                "jdl",
                str(data.get("orderId", "")),
                data.get("province", ""),
                data.get("city", ""),
                data.get("receiveAddress", ""),
            )
            await answered()
            faults.maybe_fail("after")
            return {
                key: {
                    "code": "0",
                    "receiveorderinfo_result": {
                        "resultCode": jdl.OK,
                        "resultMessage": "成功",
                        "deliveryId": rec["waybill"],
                        "promiseTimeType": data.get("promiseTimeType", 1),
                        "orderId": rec["orderId"],
                    },
                }
            }
        if method == jdl.INTERCEPT:
            found = waybills.get(f"{carrier}:{data.get('orderId', '')}")
            if found is None:
                return {key: {"code": "0", "resultInfo": {"stateCode": 404, "stateMessage": "运单不存在"}}}
            found["cancelled"] = True
            save(carrier, found)
            return {key: {"code": "0", "resultInfo": {"stateCode": jdl.OK, "stateMessage": "拦截成功"}}}
        return {"error_response": {"code": "20", "zh_desc": f"不支持的方法 {method}"}}

    # ---- DHL Express (MyDHL) ------------------------------------------------------

    @app.post("/{carrier}/mydhlapi/shipments", status_code=201)
    async def dhl_create(carrier: str, request: Request) -> JSONResponse:
        expected = base64.b64encode(f"{settings.dhl_user}:{settings.dhl_password}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"status": 401, "title": "Unauthorized", "detail": "bad credentials"}, 401)
        available(carrier)
        data = await request.json()
        receiver = data.get("customerDetails", {}).get("receiverDetails", {}).get("postalAddress", {})
        ref = next((r["value"] for r in data.get("customerReferences", []) if r.get("typeCode") == "CU"), "")
        if not ref or not receiver:
            return JSONResponse(
                {
                    "status": 400,
                    "title": "Bad request",
                    "detail": "customerReferences CU and receiverDetails are required",
                },
                400,
            )
        if why := refusal(carrier, receiver.get("provinceName", ""), receiver.get("addressLine1", "")):
            return JSONResponse({"status": 422, "title": "Unprocessable", "detail": why}, 422)
        rec = book(
            carrier,
            "dhl",
            ref,
            receiver.get("provinceName", ""),
            receiver.get("cityName", ""),
            receiver.get("addressLine1", ""),
        )
        rec["waybill"] = rec["waybill"][-10:]  # DHL numbers are 10 digits
        save(carrier, rec)
        await answered()
        faults.maybe_fail("after")
        return JSONResponse(
            {
                "shipmentTrackingNumber": rec["waybill"],
                "packages": [{"referenceNumber": 1, "trackingNumber": f"JD01{rec['waybill']}"}],
                "documents": [
                    {
                        "imageFormat": "PDF",
                        "typeCode": "label",
                        "content": base64.b64encode(secrets.token_bytes(24)).decode(),
                    }
                ],
            },
            201,
        )

    # ---- for tests and the demo ---------------------------------------------------

    @app.get("/admin/waybills")
    async def admin() -> dict[str, Any]:
        return {"waybills": waybills, "faults_injected": faults.injected, "down": sorted(app.state.down)}

    @app.put("/admin/answers")
    async def hold_answers(body: dict[str, bool]) -> dict[str, bool]:
        """`{"held": true}`: bookings are made but not answered until `{"held": false}`."""
        if body.get("held"):
            answering.clear()
        else:
            answering.set()
        return {"held": not answering.is_set()}

    @app.put("/admin/tracking")
    async def pause_tracking(body: dict[str, bool]) -> dict[str, bool]:
        """`{"paused": true}`: booked parcels wait uncollected, so their orders stay in flight
        waiting for tracking (the benchmark measures the workers' memory so), until
        `{"paused": false}`."""
        if body.get("paused"):
            tracking.clear()
        else:
            tracking.set()
        return {"paused": not tracking.is_set()}

    @app.post("/admin/collect")
    async def collect(body: dict[str, str]) -> dict[str, Any]:
        """`{"waybill": W}`: the courier has collected this parcel (as the first journey step
        does), so SF- and ZTO-style carriers refuse to cancel it from now on."""
        for key, rec in waybills.items():
            if rec["waybill"] == body.get("waybill"):
                rec["route"] = rec["route"] or [JOURNEY[0][1]]
                waybills.save(key)
                return rec
        raise HTTPException(status_code=404, detail=f"no waybill {body.get('waybill')}")

    @app.put("/admin/numbering")
    async def set_numbering(body: dict[str, int]) -> dict[str, int]:
        """`{"next": N}` (default: the first number ever issued): waybill numbers start again
        at N, as carriers recycle theirs."""
        numbers.restart_at(int(body.get("next", FIRST_NUMBER)))
        return {"next": int(body.get("next", FIRST_NUMBER))}

    @app.put("/admin/down")
    async def set_down(carriers: list[str]) -> dict[str, Any]:
        app.state.down = set(carriers)
        return {"down": sorted(app.state.down)}

    @app.exception_handler(_Answer)
    async def _answer(_: Request, exc: _Answer) -> JSONResponse:
        return JSONResponse(exc.body)

    return app


class _Answer(Exception):  # noqa: N818 - an early answer, not an error
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("answer")
        self.body = body


app = create_app()
