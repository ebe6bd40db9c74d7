"""A Qimen-speaking WMS stand-in with its own stock.

It accepts, de-duplicates and cancels delivery orders (stock leaves its sellable count when
an outbound order is accepted and returns if it is cancelled), carries out transfers
(`stockout.create` DBCK at the source, `entryorder.create` DBRK at the destination, and an
`entryorder.confirm` pushed to Ordo when the goods arrive), answers `inventory.query`
snapshots, and pushes `stockchange.report` for receipts, cycle counts and damage. An event
can also be applied silently (a lost message), which is the drift Ordo's reconciliation
must find. Returned units graded CC (defective) are held apart from the sellable stock until
they are refurbished (CC out, ZP in, one report) or scrapped (CC out).

Orders, transfers, returns and stock live in a `SimState` (under `var/sim/` in the embedded
stack), so a restarted WMS still knows what it accepted, and returns still on their way
arrive after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os

# builds XML only: parsing goes through defusedxml
import xml.etree.ElementTree as ET  # nosec B405
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from defusedxml import ElementTree as defused
from fastapi import FastAPI, Request, Response

from config.settings import get_settings
from domain.wire import qimen
from simulators.faults import Faults
from simulators.outbound import Outbound
from simulators.state import SimState, state_dir

# purchase in, stocktake, scrap; refurbished: defective units made sellable (an inventory-type
# adjustment), scrapped: defective units written off
EVENT_TYPES = {"receipt": "CGRK", "count": "PDTZ", "damage": "BFCK", "refurbish": "KCTZ", "scrap": "BFCK"}
# the stock each event takes units from (-) and puts them into (+)
EVENT_MOVES = {"receipt": (None, "ZP"), "count": (None, "ZP"), "damage": ("ZP", None),
               "refurbish": ("CC", "ZP"), "scrap": ("CC", None)}


def create_app(faults: Faults | None = None, state: SimState | None = None) -> FastAPI:
    settings = get_settings()
    outbound = Outbound(timeout=settings.http_timeout_seconds)

    @contextlib.asynccontextmanager
    async def resume_returns(_: FastAPI) -> AsyncIterator[None]:
        for code, ret in returns.items():
            if ret["status"] == "EXPECTED":
                arrive_in_time(code)
        yield
        for task in list(pending):  # a stopped WMS stops its return arrivals; the state file resumes them
            task.cancel()
        await outbound.aclose()

    app = FastAPI(title="Ordo WMS simulator (Qimen)", lifespan=resume_returns)
    faults = faults or Faults()
    faults.install(app)
    state = state or SimState("wms", state_dir())
    orders = state.records("orders")
    transfers = state.records("transfers")
    returns = state.records("returns")
    pending: set[asyncio.Task[None]] = set()
    return_seconds = float(os.environ.get("ORDO_SIM_RETURN_SECONDS", "0"))
    stock = state.records("stock")  # (warehouse, sku) -> sellable (ZP) units
    defective = state.records("defective")  # (warehouse, sku) -> defective (CC) units
    held = {"ZP": stock, "CC": defective}
    ids = state.counter("ids", 1)
    pushed: list[dict[str, Any]] = []

    def xml(body: str) -> Response:
        return Response(content=body, media_type="application/xml")

    def move(
        warehouse: str, lines: list[dict[str, Any]], sign: int, field: str = "planQty", kind: str = "ZP"
    ) -> None:
        units = held[kind]
        for ln in lines:
            key = (warehouse, str(ln.get("itemCode")))
            units[key] = units.get(key, 0) + sign * int(str(ln.get(field) or 0))

    async def push(method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Report to Ordo as a real WMS would (signed Qimen XML)."""
        body = qimen.to_xml("request", payload)
        params = {
            "method": method,
            "app_key": settings.qimen_app_key,
            "v": "2.0",
            "format": "xml",
            "sign_method": "md5",
            "customerId": "wms-sim",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        params["sign"] = qimen.sign(params, body, settings.qimen_secret)
        answer: dict[str, Any] = {"method": method}
        try:
            resp = await outbound.client.post(
                f"{settings.api_url}/v1/wms/qimen",
                params=params,
                content=body.encode(),
                headers={"Content-Type": "application/xml"},
            )
            answer.update(status=resp.status_code, reply=qimen.from_xml(resp.text))
        except (httpx.HTTPError, ET.ParseError) as exc:  # Ordo down: the report can be sent again
            answer.update(status=None, error=repr(exc))
        pushed.append(answer)
        return answer

    def _lines(data: dict[str, Any]) -> list[dict[str, Any]]:
        lines = data.get("orderLines") or []
        return lines if isinstance(lines, list) else [lines]

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
                orders[code] = {
                    "id": f"WMS{next(ids):08d}",
                    "status": "ACCEPT",
                    "warehouseCode": order.get("warehouseCode"),
                    "lines": _lines(data),
                }
                move(str(order.get("warehouseCode")), orders[code]["lines"], -1)
            faults.maybe_fail("after")
            return xml(
                qimen.response(
                    "success",
                    "0",
                    "ok",
                    deliveryOrderId=orders[code]["id"],
                    createTime="",
                    warehouseCode=orders[code]["warehouseCode"],
                )
            )
        if method == "order.cancel":
            code = data.get("orderCode", "")
            if code not in orders:
                return xml(qimen.response("success", "0", "nothing to cancel"))
            if orders[code]["status"] == "DELIVERED":
                return xml(qimen.response("failure", "ORDER_DELIVERED", "already shipped"))
            if orders[code]["status"] != "CANCELED":
                move(str(orders[code]["warehouseCode"]), orders[code]["lines"], +1)
            orders[code]["status"] = "CANCELED"
            orders.save(code)
            return xml(qimen.response("success", "0", "cancelled"))
        if method == "stockout.create":  # transfer out (DBCK): the goods leave the source
            order = data.get("deliveryOrder", {})
            code = str(order.get("deliveryOrderCode", ""))
            if not code:
                return xml(qimen.response("failure", "400", "deliveryOrderCode is required"))
            if code not in transfers:
                transfers[code] = {
                    "from": str(order.get("warehouseCode")),
                    "to": "",
                    "status": "OUT",
                    "lines": _lines(data),
                }
                move(transfers[code]["from"], transfers[code]["lines"], -1)
            return xml(qimen.response("success", "0", "ok", deliveryOrderId=code))
        if method == "entryorder.create":  # transfer in (DBRK): expected at the destination
            order = data.get("entryOrder", {})
            code = str(order.get("entryOrderCode", ""))
            if code not in transfers:
                return xml(qimen.response("failure", "400", f"no stockout for {code}: create it first"))
            transfers[code]["to"] = str(order.get("warehouseCode"))
            transfers.save(code)
            return xml(qimen.response("success", "0", "ok", entryOrderId=code))
        if method == "returnorder.create":  # a customer's return is on its way (THRK / HHRK)
            order = data.get("returnOrder", {})
            code = str(order.get("returnOrderCode", ""))
            if not code or not data.get("orderLines"):
                return xml(qimen.response("failure", "400", "returnOrderCode and orderLines are required"))
            if code not in returns:
                returns[code] = {
                    "warehouse": str(order.get("warehouseCode")),
                    "type": order.get("orderType"),
                    "status": "EXPECTED",
                    "lines": _lines(data),
                }
                arrive_in_time(code)
            return xml(qimen.response("success", "0", "ok", returnOrderId=code))
        if method == "inventory.query":
            wanted = {el.text or "" for el in defused.fromstring(body).iter("warehouseCode")}
            items = [
                {"warehouseCode": w, "itemCode": sku, "inventoryType": kind, "quantity": q, "lockQuantity": 0}
                for kind, units in held.items()
                for (w, sku), q in sorted(units.items())
                if not wanted or w in wanted
            ]
            return xml(qimen.response("success", "0", "ok", items=items))
        return xml(qimen.response("failure", "method-not-supported", f"unknown method {method}"))

    @app.put("/admin/stock")
    async def seed(request: Request, replace: bool = True) -> dict[str, int]:
        """Opening stock: `{"stock": [{"warehouse", "sku", "quantity", "defective": 0}]}`
        replaces what is held (`replace=false`: only when nothing is held yet, as a restarted
        WMS keeps its own count)."""
        rows = (await request.json())["stock"]
        if not replace and (stock or defective):
            return {"rows": len(stock), "kept": 1}
        stock.clear()
        defective.clear()
        for r in rows:
            stock[(str(r["warehouse"]), str(r["sku"]))] = int(r["quantity"])
            if int(r.get("defective") or 0):
                defective[(str(r["warehouse"]), str(r["sku"]))] = int(r["defective"])
        return {"rows": len(stock), "kept": 0}

    @app.post("/admin/events")
    async def event(request: Request) -> dict[str, Any]:
        """`{"type": receipt|count|damage|refurbish|scrap, "warehouse", "sku", "quantity"
        (signed for count), "inventory_type": "ZP" (a count may find CC units), "silent": false}`:
        change the stock, and unless silent report it to Ordo (refurbish: CC out and ZP in, in
        one report under one outBizCode)."""
        ev = await request.json()
        key = (str(ev["warehouse"]), str(ev["sku"]))
        qty = abs(int(ev["quantity"])) if ev["type"] != "count" else int(ev["quantity"])
        source, target = EVENT_MOVES[ev["type"]]
        if ev["type"] == "count":
            target = "CC" if ev.get("inventory_type") == "CC" else "ZP"
        if source == "CC" and defective.get(key, 0) < qty:
            return {"error": f"only {defective.get(key, 0)} defective {key[1]} at {key[0]}"}
        code = f"SC{next(ids):08d}"
        changes = [(kind, sign * qty) for kind, sign in ((source, -1), (target, +1)) if kind]
        for kind, change in changes:
            held[kind][key] = held[kind].get(key, 0) + change
        if ev.get("silent"):
            return {"outBizCode": code, "reported": False}
        answer = await push(
            "stockchange.report",
            {
                "items": [
                    {
                        "ownerCode": "ORDO",
                        "warehouseCode": key[0],
                        "orderCode": code,
                        "orderType": EVENT_TYPES[ev["type"]],
                        "outBizCode": code,
                        "itemCode": key[1],
                        "inventoryType": kind,
                        "quantity": change,
                        "changeTime": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    }
                    for kind, change in changes
                ]
            },
        )
        return {"outBizCode": code, "reported": True, "ordo": answer}

    @app.post("/admin/transfers/{code}/arrive")
    async def arrive(code: str, received: int | None = None) -> dict[str, Any]:
        """The transfer's goods reach the destination: book them (once) and confirm to Ordo
        (again on every call, as a WMS re-sends an unanswered confirmation)."""
        tr = transfers.get(code)
        if tr is None or not tr["to"]:
            return {"error": f"no transfer {code} with an entry order"}
        lines = [
            dict(ln, actualQty=received if received is not None else ln.get("planQty")) for ln in tr["lines"]
        ]
        if tr["status"] != "IN":
            move(tr["to"], lines, +1, "actualQty")
            tr["status"] = "IN"
            transfers.save(code)
        answer = await push(
            "entryorder.confirm",
            {
                "entryOrder": {
                    "entryOrderCode": code,
                    "warehouseCode": tr["to"],
                    "orderType": "DBRK",
                    "status": "FULFILLED",
                },
                "orderLines": [
                    {
                        "itemCode": ln["itemCode"],
                        "planQty": ln.get("planQty"),
                        "actualQty": ln["actualQty"],
                        "inventoryType": "ZP",
                    }
                    for ln in lines
                ],
            },
        )
        return {"transfer": code, "ordo": answer}

    def arrive_in_time(code: str) -> None:
        if return_seconds > 0:  # the parcel arrives on its own after a while
            task = asyncio.create_task(arrive_later(code))
            pending.add(task)
            task.add_done_callback(pending.discard)

    async def arrive_later(code: str) -> None:
        await asyncio.sleep(return_seconds)
        for _ in range(20):  # Ordo may be busy: send again, as a WMS does, until it answers
            answer = await receive_return(code)
            if answer.get("ordo", {}).get("status") == 200:
                return
            await asyncio.sleep(1)

    async def receive_return(code: str, grades: dict[str, str] | None = None) -> dict[str, Any]:
        """The returned parcel is opened and graded: unopened or opened goods are sellable (ZP),
        used goods defective (CC), damaged goods machine-damaged (JS); `grades` (SKU ->
        inventory type) overrides. Sellable units go back into stock once."""
        ret = returns.get(code)
        if ret is None:
            return {"error": f"no return order {code}"}
        by_condition = {"unopened": "ZP", "opened": "ZP", "used": "CC", "damaged": "JS"}
        lines = [
            dict(
                ln,
                actualQty=ln.get("planQty"),
                inventoryType=(grades or {}).get(str(ln.get("itemCode")))
                or by_condition.get(str(ln.get("remark") or ""), "ZP"),
            )
            for ln in ret["lines"]
        ]
        if ret["status"] != "RECEIVED":  # scrapped (JS) units are not kept
            for kind in held:
                graded = [ln for ln in lines if ln["inventoryType"] == kind]
                move(ret["warehouse"], graded, +1, "actualQty", kind)
            ret["status"] = "RECEIVED"
            returns.save(code)
        answer = await push(
            "returnorder.confirm",
            {
                "returnOrder": {
                    "returnOrderCode": code,
                    "warehouseCode": ret["warehouse"],
                    "orderType": ret["type"],
                    "outBizCode": f"{code}-in",
                },
                "orderLines": [
                    {
                        "itemCode": ln["itemCode"],
                        "planQty": ln.get("planQty"),
                        "actualQty": ln["actualQty"],
                        "inventoryType": ln["inventoryType"],
                    }
                    for ln in lines
                ],
            },
        )
        return {"return": code, "ordo": answer}

    @app.post("/admin/returns/{code}/arrive")
    async def return_arrives(code: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        return await receive_return(code, json.loads(body) if body else None)

    @app.get("/admin/orders")
    async def admin_orders() -> dict[str, Any]:
        return {
            "orders": orders,
            "transfers": transfers,
            "returns": returns,
            "faults_injected": faults.injected,
            **{
                name: [{"warehouse": w, "sku": s, "quantity": q} for (w, s), q in sorted(units.items())]
                for name, units in (("stock", stock), ("defective", defective))
            },
            "pushed": pushed[-50:],
        }

    return app


app = create_app()
