"""Stand-ins for the sales channels' seller APIs that Ordo writes waybills back to.

Shopify Admin REST (fulfillment orders, fulfillments; `X-Shopify-Access-Token`) and the
Taobao Open Platform router (`taobao.logistics.offline.send`, TOP md5 signature). Each
repeat is answered the way the real one answers it (Shopify 422, Taobao B04), and every
accepted call is kept for `GET /admin/received`.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from config.settings import get_settings
from domain.wire import top
from simulators.faults import Faults


def create_app(faults: Faults | None = None) -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Ordo marketplace simulator (Shopify, Taobao)")
    faults = faults or Faults()
    received: list[dict[str, Any]] = []
    shopify_numbers: dict[str, int] = {}  # tracking number -> fulfillment id
    taobao_sent: dict[str, set[str]] = {}  # tid -> waybills
    ids = itertools.count(5_000_000_001)

    def fo_id(order_id: str) -> int:
        return int(hashlib.sha256(order_id.encode()).hexdigest()[:10], 16)

    def shopify_auth(request: Request) -> JSONResponse | None:
        if request.headers.get("x-shopify-access-token") != settings.shopify_access_token:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
        return None

    @app.get("/shopify/admin/api/{version}/orders/{order_id}/fulfillment_orders.json")
    async def fulfillment_orders(version: str, order_id: str, request: Request) -> JSONResponse:
        if (denied := shopify_auth(request)) is not None:
            return denied
        faults.maybe_fail("before")
        return JSONResponse(
            {
                "fulfillment_orders": [
                    {
                        "id": fo_id(order_id),
                        "order_id": order_id,
                        "status": "open",
                        "request_status": "unsubmitted",
                        "line_items": [],
                    }
                ]
            }
        )

    @app.post("/shopify/admin/api/{version}/fulfillments.json", status_code=201)
    async def fulfillments(version: str, request: Request) -> JSONResponse:
        if (denied := shopify_auth(request)) is not None:
            return denied
        faults.maybe_fail("before")
        body = (await request.json()).get("fulfillment", {})
        groups = body.get("line_items_by_fulfillment_order") or []
        number = (body.get("tracking_info") or {}).get("number", "")
        if not groups or not groups[0].get("fulfillment_order_id"):
            return JSONResponse({"errors": {"line_items_by_fulfillment_order": ["is required"]}}, 422)
        if number in shopify_numbers:
            return JSONResponse({"errors": [f"tracking number {number} already fulfilled"]}, 422)
        shopify_numbers[number] = next(ids)
        received.append({"channel": "shopify", "body": body})
        faults.maybe_fail("after")
        return JSONResponse(
            {
                "fulfillment": {
                    "id": shopify_numbers[number],
                    "status": "success",
                    "tracking_number": number,
                    "tracking_company": body["tracking_info"].get("company"),
                }
            },
            201,
        )

    @app.post("/taobao/router/rest")
    async def taobao(request: Request) -> dict[str, Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if form.get("sign") != top.sign(form, settings.taobao_secret):
            return {"error_response": {"code": 25, "msg": "Invalid signature"}}
        faults.maybe_fail("before")
        if form.get("method") != "taobao.logistics.offline.send":
            return {"error_response": {"code": 22, "msg": "Invalid method"}}
        missing = [k for k in ("tid", "out_sid", "company_code") if not form.get(k)]
        if missing:
            return {
                "error_response": {"code": 41, "msg": "Invalid arguments", "sub_msg": f"missing {missing}"}
            }
        sent = taobao_sent.setdefault(form["tid"], set())
        if form["out_sid"] in sent:
            return {
                "error_response": {
                    "code": 15,
                    "sub_code": "isv.logistics-offline-service-error:B04",
                    "sub_msg": "订单已发货 already shipped with this waybill",
                }
            }
        sent.add(form["out_sid"])
        received.append({"channel": "taobao", "body": {k: v for k, v in form.items() if k != "sign"}})
        faults.maybe_fail("after")
        return {"logistics_offline_send_response": {"shipping": {"is_success": True}}}

    @app.get("/admin/received")
    async def admin() -> dict[str, Any]:
        return {"received": received, "faults_injected": faults.injected}

    return app


app = create_app()
