"""The WMS's reports to Ordo (Qimen, signed) and the inventory views for people.

`stockchange.report` (receipts, cycle counts, damage) is booked in the ledger once per
`outBizCode`; `entryorder.confirm` of a transfer (DBRK) is handed to its TransferWorkflow,
of anything else (a purchase receipt) booked like a stock change. Stock that arrives
resumes the orders backordered on that SKU, most urgent first.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import problem
from config import queues
from config.settings import Settings
from domain.model import workflow_id_for
from domain.returns import GRADE_OF_INVENTORY_TYPE, Inspection, ReturnedUnits, ReturnReceipt
from domain.stock_messages import TransferArrival, TransferRequest
from domain.wire import qimen
from store import ledger, reconcile, transfers
from store import returns as return_store
from workflows.inventory import transfer_workflow_id
from workflows.returns import return_workflow_id

log = structlog.get_logger()


class TransferOrder(BaseModel):
    sku: str = Field(min_length=1)
    from_warehouse: str = Field(min_length=1)
    to_warehouse: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    reason: str = "by an operator"
    transfer_id: str = Field("", max_length=90, description="optional: makes a retried request one transfer")
METHODS = ("stockchange.report", "entryorder.confirm", "returnorder.confirm")


def _xml(body: str, status: int = 200) -> Response:
    return Response(body, media_type="application/xml", status_code=status)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _stock_changes(data: dict[str, Any]) -> list[ledger.StockChange]:
    return [
        ledger.StockChange(
            out_biz_code=str(i["outBizCode"]),
            sku=str(i["itemCode"]),
            warehouse=str(i["warehouseCode"]),
            quantity=int(str(i["quantity"])),
            order_type=str(i.get("orderType") or ""),
            inventory_type=str(i.get("inventoryType") or "ZP"),
        )
        for i in _as_list(data.get("items"))
        if str(i.get("inventoryType") or "ZP") in ("ZP", "CC")
    ]


def _receipts(data: dict[str, Any]) -> list[ledger.StockChange]:
    """A non-transfer entry order's confirmation: each line is a receipt."""
    entry = data["entryOrder"]
    code, warehouse, kind = str(entry["entryOrderCode"]), str(entry["warehouseCode"]), str(entry["orderType"])
    return [
        ledger.StockChange(
            out_biz_code=f"{code}:{ln['itemCode']}"[:100],
            sku=str(ln["itemCode"]),
            warehouse=warehouse,
            quantity=int(str(ln["actualQty"])),
            order_type=kind,
        )
        for ln in _as_list(data.get("orderLines"))
        if str(ln.get("inventoryType") or "ZP") == "ZP"
    ]


def router(settings: Settings) -> APIRouter:
    api = APIRouter()

    async def resume_backorders(request: Request, skus: set[str]) -> list[str]:
        resumed: list[str] = []
        for sku in sorted(skus):
            for order_id in await ledger.backordered_for(request.app.state.db, sku):
                try:  # a missed signal only delays the order until its own retry timer
                    client = await request.app.state.temporal.client()
                    await client.get_workflow_handle(workflow_id_for(order_id)).signal("restock")
                    resumed.append(order_id)
                except Exception as exc:
                    log.warning("restock.signal_failed", order_id=order_id, error=str(exc))
        return resumed

    async def book(request: Request, changes: list[ledger.StockChange]) -> Response:
        results = [(c, await ledger.apply_stock_change(request.app.state.db, c)) for c in changes]
        refused = [f"{c.out_biz_code}: {r}" for c, r in results if r not in ("applied", "duplicate")]
        resumed = await resume_backorders(
            request, {c.sku for c, r in results if r == "applied" and c.quantity > 0}
        )
        log.info(
            "wms.stock_changed",
            applied=sum(r == "applied" for _, r in results),
            duplicates=sum(r == "duplicate" for _, r in results),
            refused=refused,
            resumed=resumed,
        )
        if refused:
            return _xml(qimen.response("failure", "PARTIAL", "; ".join(refused)))
        return _xml(qimen.response("success", "0", f"ok; resumed {len(resumed)} backordered order(s)"))

    async def transfer_arrived(request: Request, data: dict[str, Any]) -> Response:
        code = str(data["entryOrder"]["entryOrderCode"])
        received = sum(int(str(ln["actualQty"])) for ln in _as_list(data.get("orderLines")))
        client = await request.app.state.temporal.client()
        try:
            await client.get_workflow_handle(transfer_workflow_id(code)).signal(
                "arrived", TransferArrival(received=received)
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            if await transfers.status_of(request.app.state.db, code) is None:
                return _xml(qimen.response("failure", "404", f"Ordo has no transfer {code}"), 404)
            # the workflow is finished (a repeat confirmation): booking is idempotent anyway
            await transfers.receive(request.app.state.db, code, received)
        log.info("wms.transfer_arrived", transfer_id=code, received=received)
        return _xml(qimen.response("success", "0", f"transfer {code}: {received} received"))

    async def return_received(request: Request, data: dict[str, Any]) -> Response:
        """A customer's return arrived and was graded: its units are booked now, with the
        warehouse's count (sellable on hand, defective apart), then the receipt goes to its
        ReturnWorkflow, which refunds (a repeat confirmation is ignored there, and books
        nothing twice here)."""
        head = data["returnOrder"]
        rma = str(head["returnOrderCode"])
        receipt = ReturnReceipt(
            out_biz_code=str(head.get("outBizCode") or rma), warehouse=str(head["warehouseCode"]),
            lines=[Inspection(sku=str(ln["itemCode"]), quantity=int(str(ln["actualQty"])),
                              grade=GRADE_OF_INVENTORY_TYPE.get(str(ln.get("inventoryType") or "ZP"),
                                                                "dispose"))
                   for ln in _as_list(data.get("orderLines"))])
        db = request.app.state.db
        if await return_store.get(db, rma) is None:
            return _xml(qimen.response("failure", "404", f"Ordo has no return {rma}"), 404)
        for ln in receipt.lines:
            if ln.quantity > 0:
                await return_store.book_returned_units(
                    db, ReturnedUnits(rma=rma, warehouse=receipt.warehouse, sku=ln.sku,
                                      quantity=ln.quantity, grade=ln.grade))
        client = await request.app.state.temporal.client()
        try:
            await client.get_workflow_handle(return_workflow_id(rma)).signal("received", receipt)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            # the return has finished: a repeat confirmation, and its stock is booked already
        log.info("wms.return_received", rma=rma, lines=len(receipt.lines))
        return _xml(qimen.response("success", "0", f"return {rma} received"))

    @api.post("/v1/wms/qimen", response_class=PlainTextResponse)
    async def wms_report(request: Request, method: str = "", sign: str = "") -> Response:
        """Qimen `stockchange.report` and `entryorder.confirm` from the WMS (module docstring)."""
        body = (await request.body()).decode("utf-8", errors="replace")
        params = {k: v for k, v in request.query_params.items()}
        if qimen.sign(params, body, settings.qimen_secret) != sign:
            return _xml(qimen.response("failure", "sign-check-failure", "invalid signature"), 401)
        if method not in METHODS:
            return _xml(
                qimen.response(
                    "failure", "method-not-supported", f"Ordo takes {' or '.join(METHODS)}, not '{method}'"
                ),
                400,
            )
        try:
            data = qimen.from_xml(body)
            if method == "stockchange.report":
                return await book(request, _stock_changes(data))
            if method == "returnorder.confirm":
                return await return_received(request, data)
            if str(data["entryOrder"].get("orderType")) == "DBRK":
                return await transfer_arrived(request, data)
            return await book(request, _receipts(data))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return _xml(qimen.response("failure", "400", f"not a valid {method}: {exc!r}"), 400)

    @api.get("/v1/inventory")
    async def inventory(sku: str, request: Request) -> JSONResponse:
        """Real-time availability of a SKU per warehouse: on hand, reserved, safety stock,
        available (= on hand - reserved - safety stock), in transit (visible, not yet
        promised), defective (returned units graded CC, held for refurbishing, never sold),
        per channel (less the channel's allocation buffer), and the totals."""
        buffers = settings.channel_buffers
        levels = await ledger.availability(request.app.state.read_db, sku, buffers)
        if not levels:
            return problem(404, f"no stock of '{sku}' anywhere; check the SKU")
        return JSONResponse(
            {
                "sku": sku,
                "warehouses": levels,
                "available": sum(lv["available"] for lv in levels),
                "in_transit": sum(lv["in_transit"] for lv in levels),
                "defective": sum(lv["defective"] for lv in levels),
                "available_by_channel": {
                    ch: sum(lv["by_channel"][ch] for lv in levels) for ch in sorted(buffers)
                },
                "channel_buffers": buffers,
            }
        )

    @api.get("/v1/inventory/alerts")
    async def alerts(request: Request, limit: int = 100) -> dict[str, Any]:
        """Drift corrected beyond the threshold, drift that could not be corrected, overdue transfers."""
        rows = await reconcile.alerts(request.app.state.read_db, max(1, min(limit, 1000)))
        return {
            "alerts": [
                {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows
            ]
        }

    @api.post("/v1/inventory/transfers", status_code=202)
    async def start_transfer(body: TransferOrder, request: Request) -> JSONResponse:
        """Move stock between warehouses (调拨): starts a TransferWorkflow; the stock is in
        transit (visible, not reservable) until the destination's WMS confirms it."""
        req = TransferRequest(transfer_id=body.transfer_id or f"TR-{uuid.uuid4().hex[:10]}", sku=body.sku,
                              from_warehouse=body.from_warehouse, to_warehouse=body.to_warehouse,
                              quantity=body.quantity, reason=body.reason)
        client = await request.app.state.temporal.client()
        workflow_id = transfer_workflow_id(req.transfer_id)
        with contextlib.suppress(WorkflowAlreadyStartedError):  # the same transfer id again: one transfer
            await client.start_workflow("TransferWorkflow", req, id=workflow_id, task_queue=queues.ORDERS,
                                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        return JSONResponse({"transfer_id": req.transfer_id, "workflow_id": workflow_id}, status_code=202)

    @api.get("/v1/inventory/transfers")
    async def transfer_list(request: Request, limit: int = 100) -> dict[str, Any]:
        rows = await transfers.listing(request.app.state.read_db, max(1, min(limit, 1000)))
        return {
            "transfers": [
                {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows
            ]
        }

    return api
