"""The stock side of `ordo up`'s demo: the WMS simulator reports a receipt, loses a damage
report (drift), carries out a transfer; Ordo books the receipt, reconciles the drift away
with an alert, receives the transfer; unpaid demo orders are paid after a moment. A live
table shows the stock moving."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from config import queues
from config.settings import Settings
from config.temporal import connect
from domain.stock_messages import ReconcileRequest, TransferRequest, transfer_workflow_id
from store import ledger
from store import tables as t
from workflows.inventory import ReconcileWorkflow, TransferWorkflow

WATCHED = ("COKE-330-24", "RICE-5KG", "OOLONG-TEA-500")


@dataclass
class StockDemo:
    settings: Settings
    events: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    async def run(self, unpaid_order_ids: list[str]) -> None:
        """Each step is logged as it happens; a failure is shown, never fatal to the demo."""
        try:
            await self._run(unpaid_order_ids)
        except Exception as exc:  # the order demo goes on; the log shows what failed
            self.events.append(f"[red]stock demo stopped: {exc}[/]")

    async def _run(self, unpaid: list[str]) -> None:
        s = self.settings
        client = await connect(s)
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.sleep(3)
            for order_id in unpaid:
                r = await http.post(
                    f"{s.api_url}/v1/orders/{order_id}/paid", json={"reason": "bank transfer"}
                )
                self.events.append(f"payment received for unpaid order {order_id}: {r.status_code}")
            r = await http.post(
                f"{s.wms_url}/admin/events",
                json={"type": "receipt", "warehouse": "GZ-01", "sku": "OOLONG-TEA-500", "quantity": 50},
            )
            self.events.append(
                f"WMS receipt: 50 x OOLONG-TEA-500 at GZ-01, reported ({r.json().get('outBizCode')})"
            )
            await http.post(
                f"{s.wms_url}/admin/events",
                json={
                    "type": "damage",
                    "warehouse": "GZ-01",
                    "sku": "COKE-330-24",
                    "quantity": 8,
                    "silent": True,
                },
            )
            self.events.append("WMS damage: 8 x COKE-330-24 at GZ-01, report lost (drift)")
            transfer_id = f"TR-DEMO-{uuid.uuid4().hex[:6]}"
            await client.start_workflow(
                TransferWorkflow.run,
                TransferRequest(
                    transfer_id=transfer_id,
                    sku="RICE-5KG",
                    from_warehouse="BJ-01",
                    to_warehouse="GZ-01",
                    quantity=20,
                    reason="demo: stock the south",
                ),
                id=transfer_workflow_id(transfer_id),
                task_queue=queues.ORDERS,
            )
            self.events.append(f"transfer {transfer_id}: 20 x RICE-5KG BJ-01 -> GZ-01, in transit")
            await asyncio.sleep(8)
            arrived = None
            for _ in range(50):  # the WMS needs the entry order first
                arrived = (await http.post(f"{s.wms_url}/admin/transfers/{transfer_id}/arrive")).json()
                if "error" not in arrived:
                    break
                await asyncio.sleep(0.2)
            self.events.append(
                f"transfer {transfer_id} arrived at GZ-01; Ordo answered "
                f"{(arrived or {}).get('ordo', {}).get('status')}"
            )
        report = await client.execute_workflow(
            ReconcileWorkflow.run,
            ReconcileRequest(confirm_seconds=3, alert_units=s.drift_alert_units),
            id=f"inventory-reconcile-demo-{uuid.uuid4().hex[:6]}",
            task_queue=queues.ORDERS,
        )
        for d in report.corrected:
            self.events.append(
                f"reconciliation: {d.sku}@{d.warehouse} WMS {d.wms} vs Ordo {d.ordo}, corrected {d.delta:+d}"
            )
        self.events.append(
            f"reconciliation: {report.checked} balances compared, {len(report.corrected)} "
            f"corrected, {report.alerts} alert(s)"
        )
        self.summary.update(corrected=len(report.corrected), alerts=report.alerts)


async def stock_table(engine: AsyncEngine) -> Table:
    table = Table(title="stock (on hand / reserved / in transit)", expand=False)
    table.add_column("sku")
    async with engine.connect() as conn:
        rows = (await conn.execute(select(t.stock).where(t.stock.c.sku.in_(WATCHED)))).all()
        moves = (await conn.execute(select(func.count()).select_from(t.stock_movements))).scalar_one()
    warehouses = sorted({r.warehouse for r in rows})
    for w in warehouses:
        table.add_column(w, justify="right")
    by_key = {(r.sku, r.warehouse): r for r in rows}
    for sku in WATCHED:
        cells = []
        for w in warehouses:
            r = by_key.get((sku, w))
            cells.append(f"{r.on_hand}/{r.reserved}/{r.in_transit}" if r else "-")
        table.add_row(sku, *cells)
    table.caption = f"{moves} ledger movements"
    return table


async def stock_summary(engine: AsyncEngine) -> dict[str, int]:
    checked, drift = await ledger.audit(engine)
    async with engine.connect() as conn:
        moves = (await conn.execute(select(func.count()).select_from(t.stock_movements))).scalar_one()
        received = (
            await conn.execute(
                select(func.count()).select_from(t.transfers).where(t.transfers.c.status == "received")
            )
        ).scalar_one()
    return {"ledger_movements": int(moves), "audit_drift": len(drift), "transfers_received": int(received)}
