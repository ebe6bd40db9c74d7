"""What the WMS reports (Qimen, signed), applied: `stockchange.report` booked in the ledger
once per `outBizCode`; `entryorder.confirm` of a transfer (DBRK) handed to its
TransferWorkflow, of anything else (a purchase receipt) booked like a stock change;
`returnorder.confirm` books a graded return and tells its ReturnWorkflow. Stock that arrives
resumes the orders backordered on that SKU, most urgent first."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import structlog
from defusedxml.ElementTree import ParseError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from domain.model import workflow_id_for
from domain.returns import (
    GRADE_OF_INVENTORY_TYPE,
    Inspection,
    ReturnedUnits,
    ReturnReceipt,
    return_workflow_id,
)
from domain.stock_messages import TransferArrival, transfer_workflow_id
from domain.wire import qimen
from services.errors import Invalid, NotFound, Unauthenticated
from services.temporal import LazyTemporal
from store import ledger, transfers
from store import returns as return_store

log = structlog.get_logger()
METHODS = ("stockchange.report", "entryorder.confirm", "returnorder.confirm")


@dataclass(frozen=True)
class Answer:
    """What the WMS is told: `success` with a message, or `failure` with Qimen's code."""

    ok: bool
    code: str
    message: str


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def stock_changes(data: dict[str, Any]) -> list[ledger.StockChange]:
    return [
        ledger.StockChange(
            out_biz_code=str(i["outBizCode"]), sku=str(i["itemCode"]), warehouse=str(i["warehouseCode"]),
            quantity=int(str(i["quantity"])), order_type=str(i.get("orderType") or ""),
            inventory_type=str(i.get("inventoryType") or "ZP"),
        )
        for i in _as_list(data.get("items"))
        if str(i.get("inventoryType") or "ZP") in ("ZP", "CC")
    ]


def receipts(data: dict[str, Any]) -> list[ledger.StockChange]:
    """A non-transfer entry order's confirmation: each line is a receipt."""
    entry = data["entryOrder"]
    code, warehouse, kind = str(entry["entryOrderCode"]), str(entry["warehouseCode"]), str(entry["orderType"])
    return [
        ledger.StockChange(out_biz_code=f"{code}:{ln['itemCode']}"[:100], sku=str(ln["itemCode"]),
                           warehouse=warehouse, quantity=int(str(ln["actualQty"])), order_type=kind)
        for ln in _as_list(data.get("orderLines"))
        if str(ln.get("inventoryType") or "ZP") == "ZP"
    ]


class WmsReports:
    def __init__(self, db: AsyncEngine, temporal: LazyTemporal, settings: Settings) -> None:
        self.db, self.temporal, self.settings = db, temporal, settings

    async def apply(self, method: str, params: dict[str, str], body: str, sign: str) -> Answer:
        """Unauthenticated for a bad signature, Invalid for an unknown method or a body that
        is not what the method says, NotFound for a transfer or return Ordo never made."""
        expected = qimen.sign(params, body, self.settings.qimen_secret)
        if not hmac.compare_digest(expected.encode(), sign.encode()):
            raise Unauthenticated("invalid signature", code="sign-check-failure")
        if method not in METHODS:
            raise Invalid(f"Ordo takes {' or '.join(METHODS)}, not '{method}'", code="method-not-supported")
        try:
            data = qimen.from_xml(body)
            if method == "stockchange.report":
                return await self.book(stock_changes(data))
            if method == "returnorder.confirm":
                return await self._return_received(data)
            if str(data["entryOrder"].get("orderType")) == "DBRK":
                return await self._transfer_arrived(data)
            return await self.book(receipts(data))
        except (ValueError, KeyError, TypeError, AttributeError, ParseError) as exc:
            raise Invalid(f"not a valid {method}: {exc!r}", code="400") from None

    async def resume_backorders(self, skus: set[str]) -> list[str]:
        """Tell the orders waiting for these SKUs, most urgent first; a missed signal only
        delays an order until its own retry timer."""
        resumed: list[str] = []
        for sku in sorted(skus):
            for order_id in await ledger.backordered_for(self.db, sku):
                try:
                    client = await self.temporal.client()
                    await client.get_workflow_handle(workflow_id_for(order_id)).signal("restock")
                    resumed.append(order_id)
                except Exception as exc:
                    log.warning("restock.signal_failed", order_id=order_id, error=str(exc))
        return resumed

    async def book(self, changes: list[ledger.StockChange]) -> Answer:
        results = [(c, await ledger.apply_stock_change(self.db, c)) for c in changes]
        refused = [f"{c.out_biz_code}: {r}" for c, r in results if r not in ("applied", "duplicate")]
        arrived = {c.sku for c, r in results if r == "applied" and c.quantity > 0}
        resumed = await self.resume_backorders(arrived)
        log.info("wms.stock_changed", applied=sum(r == "applied" for _, r in results),
                 duplicates=sum(r == "duplicate" for _, r in results), refused=refused, resumed=resumed)
        if refused:
            return Answer(ok=False, code="PARTIAL", message="; ".join(refused))
        return Answer(ok=True, code="0", message=f"ok; resumed {len(resumed)} backordered order(s)")

    async def _transfer_arrived(self, data: dict[str, Any]) -> Answer:
        code = str(data["entryOrder"]["entryOrderCode"])
        received = sum(int(str(ln["actualQty"])) for ln in _as_list(data.get("orderLines")))
        client = await self.temporal.client()
        try:
            await client.get_workflow_handle(transfer_workflow_id(code)).signal(
                "arrived", TransferArrival(received=received))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            if await transfers.status_of(self.db, code) is None:
                raise NotFound(f"Ordo has no transfer {code}", code="404") from None
            # the workflow is finished (a repeat confirmation): booking is idempotent anyway
            await transfers.receive(self.db, code, received)
        log.info("wms.transfer_arrived", transfer_id=code, received=received)
        return Answer(ok=True, code="0", message=f"transfer {code}: {received} received")

    async def _return_received(self, data: dict[str, Any]) -> Answer:
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
        if await return_store.get(self.db, rma) is None:
            raise NotFound(f"Ordo has no return {rma}", code="404")
        for ln in receipt.lines:
            if ln.quantity > 0:
                await return_store.book_returned_units(self.db, ReturnedUnits(
                    rma=rma, warehouse=receipt.warehouse, sku=ln.sku, quantity=ln.quantity, grade=ln.grade))
        client = await self.temporal.client()
        try:
            await client.get_workflow_handle(return_workflow_id(rma)).signal("received", receipt)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            # the return has finished: a repeat confirmation, and its stock is booked already
        log.info("wms.return_received", rma=rma, lines=len(receipt.lines))
        return Answer(ok=True, code="0", message=f"return {rma} received")
