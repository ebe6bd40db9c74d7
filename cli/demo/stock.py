"""The stock side of `ordo up`'s demo: the WMS simulator reports a receipt, loses a damage
report (drift), carries out a transfer; Ordo books the receipt, reconciles the drift away
with an alert, receives the transfer; unpaid demo orders are paid once they wait for it. A
live table shows the stock moving. Everything Ordo is asked goes through its API; the WMS
simulator's admin endpoints stand in for what happens in the warehouse."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from cli.demo.api import OrdoApi
from config.settings import Settings

WATCHED = ("COKE-330-24", "RICE-5KG", "OOLONG-TEA-500")
WAIT_SECONDS = 120.0  # for unpaid orders to reach awaiting_payment, and for the WMS's entry order
POLL_SECONDS = 0.5
BEFORE_PAYMENT = {"accepted", "received", "validated", "prioritised", "reserved"}


@dataclass
class StockDemo:
    settings: Settings
    api: OrdoApi
    events: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    done: bool = False

    async def run(self, unpaid_order_ids: list[str]) -> None:
        """Each step is logged as it happens; a failure is shown, never fatal to the demo."""
        try:
            await self._run(unpaid_order_ids)
        except Exception as exc:  # the order demo goes on; the panel shows what failed
            self.events.append(f"[red]stock demo stopped: {exc}[/]")
            self.summary["failed"] = str(exc)
        self.done = True

    async def _awaiting_payment(self, order_ids: list[str]) -> list[str]:
        """The unpaid orders once each holds its stock and waits (or has settled otherwise)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            statuses = (await self.api.statuses(order_ids))["orders"]
            waiting = [oid for oid in order_ids if statuses[oid] == "awaiting_payment"]
            if not any(statuses[oid] in BEFORE_PAYMENT for oid in order_ids) or time.monotonic() > deadline:
                return waiting
            await asyncio.sleep(POLL_SECONDS)

    async def _arrive(self, transfer_id: str) -> dict[str, Any]:
        """The goods reach the destination once the WMS has the transfer's entry order."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            r = await self.api.http.post(f"{self.api.wms}/admin/transfers/{transfer_id}/arrive")
            arrived: dict[str, Any] = r.json()
            if "error" not in arrived or time.monotonic() > deadline:
                return arrived
            await asyncio.sleep(POLL_SECONDS)

    async def _run(self, unpaid: list[str]) -> None:
        wms = self.api.wms
        http = self.api.http
        for order_id in await self._awaiting_payment(unpaid):
            code = await self.api.paid(order_id, "bank transfer")
            self.events.append(f"payment received for unpaid order {order_id}: {code}")
        r = await http.post(f"{wms}/admin/events", json={
            "type": "receipt", "warehouse": "GZ-01", "sku": "OOLONG-TEA-500", "quantity": 50})
        self.events.append(
            f"WMS receipt: 50 x OOLONG-TEA-500 at GZ-01, reported ({r.json().get('outBizCode')})")
        await http.post(f"{wms}/admin/events", json={
            "type": "damage", "warehouse": "GZ-01", "sku": "COKE-330-24", "quantity": 8, "silent": True})
        self.events.append("WMS damage: 8 x COKE-330-24 at GZ-01, report lost (drift)")
        transfer_id = f"TR-DEMO-{uuid.uuid4().hex[:6]}"
        await self.api.transfer(transfer_id=transfer_id, sku="RICE-5KG", from_warehouse="BJ-01",
                                to_warehouse="GZ-01", quantity=20, reason="demo: stock the south")
        self.events.append(f"transfer {transfer_id}: 20 x RICE-5KG BJ-01 -> GZ-01, in transit")
        arrived = await self._arrive(transfer_id)
        self.events.append(f"transfer {transfer_id} arrived at GZ-01; Ordo answered "
                           f"{arrived.get('ordo', {}).get('status', arrived.get('error'))}")
        report = await self.api.reconcile(confirm_seconds=3, alert_units=self.settings.drift_alert_units)
        for d in report["corrected"]:
            self.events.append(f"reconciliation: {d['sku']}@{d['warehouse']} WMS {d['wms']} vs Ordo "
                               f"{d['ordo']}, corrected {d['delta']:+d}")
        self.events.append(f"reconciliation: {report['checked']} balances compared, "
                           f"{len(report['corrected'])} corrected, {report['alerts']} alert(s)")
        self.summary.update(corrected=len(report["corrected"]), alerts=report["alerts"])


async def stock_table(api: OrdoApi) -> Table:
    table = Table(title="stock (on hand / reserved / in transit)", expand=False)
    table.add_column("sku")
    levels = {sku: {w["warehouse"]: w for w in (await api.inventory(sku))["warehouses"]} for sku in WATCHED}
    warehouses = sorted({w for by_wh in levels.values() for w in by_wh})
    for w in warehouses:
        table.add_column(w, justify="right")
    for sku in WATCHED:
        cells = [f"{r['on_hand']}/{r['reserved']}/{r['in_transit']}" if (r := levels[sku].get(w)) else "-"
                 for w in warehouses]
        table.add_row(sku, *cells)
    return table


async def stock_summary(api: OrdoApi) -> dict[str, int]:
    audit = await api.audit()
    received = sum(1 for tr in await api.transfers() if tr["status"] == "received")
    return {"ledger_movements": audit["movements"], "audit_drift": len(audit["drift"]),
            "transfers_received": received}
