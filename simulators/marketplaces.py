"""Stand-ins for the sales channels' seller APIs that Ordo writes waybills back to.

Shopify Admin REST (fulfillment orders with their lines once the order is seeded through
`POST /admin/shopify/orders`, fulfillments of named lines or of all that is left;
`X-Shopify-Access-Token`) and the
Taobao Open Platform router (`taobao.logistics.offline.send`, TOP md5 signature). Each
repeat is answered the way the real one answers it (Shopify 422, Taobao B04), and every
accepted call is kept for `GET /admin/received`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from config.settings import get_settings
from domain.wire import top
from simulators.faults import Faults
from simulators.state import SimState, state_dir


def create_app(faults: Faults | None = None, state: SimState | None = None) -> FastAPI:
    """`state`: where what the stores were told is kept (default `ORDO_SIM_STATE_DIR`, else
    memory), so a restarted store still refuses a tracking number it has already fulfilled."""
    settings = get_settings()
    app = FastAPI(title="Ordo marketplace simulator (Shopify, Taobao)")
    faults = faults or Faults()
    faults.install(app)
    state = state or SimState("marketplaces", state_dir())
    received = state.records("received")  # arrival number (1, 2, ...; never deleted) -> confirmation
    shopify_numbers = state.records("shopify_numbers")  # tracking number -> fulfillment id
    taobao_sent = state.records("taobao_sent")  # tid -> waybills
    ids = state.counter("ids", 5_000_000_001)
    shopify_lines = state.records("shopify_lines")  # order -> FO line id (text) -> line, units
    fo_orders = state.records("fo_orders")  # fulfillment order id (text) -> order id

    def fo_id(order_id: str) -> int:
        return int(hashlib.sha256(order_id.encode()).hexdigest()[:10], 16)

    def fulfillment_order(order_id: str) -> dict[str, Any]:
        """Shopify's FulfillmentOrder: its lines (when the order was seeded) with what is left
        to fulfil; open, in progress once partly fulfilled, closed when nothing is left."""
        fid = fo_id(order_id)
        if str(fid) not in fo_orders:
            fo_orders[str(fid)] = order_id
        lines = shopify_lines.get(order_id, {})
        left = [ln["quantity"] - ln["fulfilled"] for ln in lines.values()]
        done = any(ln["fulfilled"] for ln in lines.values())
        status = "closed" if lines and not any(left) else "in_progress" if done else "open"
        return {
            "id": fid,
            "order_id": order_id,
            "status": status,
            "request_status": "unsubmitted",
            "line_items": [
                {
                    "id": int(li_id),
                    "fulfillment_order_id": fid,
                    "line_item_id": ln["line_item_id"],
                    "quantity": ln["quantity"],
                    "fulfillable_quantity": ln["quantity"] - ln["fulfilled"],
                }
                for li_id, ln in lines.items()
            ],
        }

    @app.post("/admin/shopify/orders")
    async def seed_shopify_order(request: Request) -> dict[str, Any]:
        """The store's side of an order (its Shopify Order JSON), so fulfillment orders list
        its lines as Shopify's do."""
        order = await request.json()
        shopify_lines[str(order["id"])] = {
            str(int(li["id"]) * 10 + 7): {
                "line_item_id": int(li["id"]),
                "quantity": int(li["quantity"]),
                "fulfilled": 0,
            }
            for li in order["line_items"]
        }
        return fulfillment_order(str(order["id"]))

    def shopify_auth(request: Request) -> JSONResponse | None:
        if request.headers.get("x-shopify-access-token") != settings.shopify_access_token:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
        return None

    @app.get("/shopify/admin/api/{version}/orders/{order_id}/fulfillment_orders.json")
    async def fulfillment_orders(version: str, order_id: str, request: Request) -> JSONResponse:
        if (denied := shopify_auth(request)) is not None:
            return denied
        faults.maybe_fail("before")
        return JSONResponse({"fulfillment_orders": [fulfillment_order(order_id)]})

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
        order_id = fo_orders.get(str(groups[0]["fulfillment_order_id"]), "")
        lines = shopify_lines.get(order_id, {})
        asked = groups[0].get("fulfillment_order_line_items") or [
            {"id": int(li_id), "quantity": ln["quantity"] - ln["fulfilled"]} for li_id, ln in lines.items()
        ]  # no lines named: every line of the fulfillment order
        if lines:  # an order that was not seeded has no lines to check or count
            for item in asked:
                line = lines.get(str(item["id"]))
                if line is None or int(item["quantity"]) > line["quantity"] - line["fulfilled"]:
                    return JSONResponse(
                        {
                            "errors": [
                                f"fulfillment order line item {item['id']}: "
                                "quantity is greater than the fulfillable quantity"
                            ]
                        },
                        422,
                    )
            for item in asked:
                lines[str(item["id"])]["fulfilled"] += int(item["quantity"])
            shopify_lines.save(order_id)
        shopify_numbers[number] = next(ids)
        received[str(len(received) + 1)] = {"channel": "shopify", "body": body}
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
        sent = taobao_sent.get(form["tid"], [])
        if form["out_sid"] in sent:
            return {
                "error_response": {
                    "code": 15,
                    "sub_code": "isv.logistics-offline-service-error:B04",
                    "sub_msg": "订单已发货 already shipped with this waybill",
                }
            }
        taobao_sent[form["tid"]] = [*sent, form["out_sid"]]
        received[str(len(received) + 1)] = {"channel": "taobao",
                                         "body": {k: v for k, v in form.items() if k != "sign"}}
        faults.maybe_fail("after")
        return {"logistics_offline_send_response": {"shipping": {"is_success": True}}}

    @app.get("/admin/received")
    async def admin() -> dict[str, Any]:
        return {"received": [received[k] for k in sorted(received, key=int)],
                "faults_injected": faults.injected}

    return app


app = create_app()
