"""A Qimen-speaking WMS stand-in: accepts, de-duplicates and cancels delivery orders."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import FastAPI, Request, Response

from config.settings import get_settings
from domain.wire import qimen
from simulators.faults import Faults


def create_app(faults: Faults | None = None) -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Ordo WMS simulator (Qimen)")
    faults = faults or Faults()
    orders: dict[str, dict[str, Any]] = {}
    ids = itertools.count(1)

    def xml(body: str) -> Response:
        return Response(content=body, media_type="application/xml")

    @app.post("/router/qimen/service")
    async def service(request: Request) -> Response:
        params = dict(request.query_params)
        body = (await request.body()).decode("utf-8")
        if params.get("sign") != qimen.sign(params, body, settings.qimen_secret):
            return xml(qimen.response("failure", "sign-check-failure", "invalid signature"))
        faults.maybe_fail("before")
        method = params.get("method", "")
        data = qimen.from_xml(body)
        if method == "deliveryorder.create":
            order = data.get("deliveryOrder", {})
            code = order.get("deliveryOrderCode", "")
            if not code or not data.get("orderLines"):
                return xml(qimen.response("failure", "400", "deliveryOrderCode and orderLines are required"))
            if code not in orders:
                orders[code] = {"id": f"WMS{next(ids):08d}", "status": "ACCEPT",
                                "warehouseCode": order.get("warehouseCode"), "lines": data["orderLines"]}
            faults.maybe_fail("after")
            return xml(qimen.response("success", "0", "ok", deliveryOrderId=orders[code]["id"],
                                      createTime="", warehouseCode=orders[code]["warehouseCode"]))
        if method == "order.cancel":
            code = data.get("orderCode", "")
            if code not in orders:
                return xml(qimen.response("success", "0", "nothing to cancel"))
            if orders[code]["status"] == "DELIVERED":
                return xml(qimen.response("failure", "ORDER_DELIVERED", "already shipped"))
            orders[code]["status"] = "CANCELED"
            return xml(qimen.response("success", "0", "cancelled"))
        return xml(qimen.response("failure", "method-not-supported", f"unknown method {method}"))

    @app.get("/admin/orders")
    async def admin_orders() -> dict[str, Any]:
        return {"orders": orders, "faults_injected": faults.injected}

    return app


app = create_app()
