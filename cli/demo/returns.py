"""The returns side of `ordo up`'s demo: once demo orders are delivered, three customers ask
for returns over the API - a change of mind refunded after the warehouse restocks the unit,
a size swap sent as a linked replacement order, and a used item the rules refuse. The WMS
simulator receives and grades each return parcel by itself a moment after its label."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from cli.demo.api import OrdoApi
from domain.returns import FINAL_RETURN

SETTLED = ("completed", "cancelled", "awaiting_operator")
POLL_SECONDS = 1.0
ASKS = (  # (what the customer asks, what the rules should make of it)
    ({"reason": "changed_mind", "condition": "unopened"}, "refund", "refunded"),
    ({"reason": "size_fit", "condition": "unopened"}, "exchange", "exchanged"),
    ({"reason": "changed_mind", "condition": "used"}, "refund", "rejected"),
)


@dataclass
class ReturnsDemo:
    api: OrdoApi
    events: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    done: bool = False

    async def run(self, order_ids: list[str], timeout: float = 300) -> None:
        try:
            await asyncio.wait_for(self._run(order_ids), timeout)
        except Exception as exc:  # the order demo goes on; the panel shows what failed
            self.events.append(f"[red]returns demo stopped: {exc!r}[/]")
        self.done = True

    async def _delivered(self, order_ids: list[str], wanted: int) -> list[tuple[str, str]]:
        """(order id, a returnable SKU) of the first completed orders, in the demo's order;
        fewer when every demo order has settled and no more qualify (a small demo). Platinum
        members are left out: their 30-day window approves even a used item, and the demo
        shows the rules refusing one."""
        returnable = {  # everyday goods: a phone would wait for an operator's review
            p.sku for p in await self.api.products() if p.returnable and not p.hazmat and p.unit_price < 1000}
        first_line: dict[str, str] = {}  # completed order -> the SKU of its first line
        while True:
            statuses = (await self.api.statuses(order_ids))["orders"]
            for oid in order_ids:
                if statuses[oid] == "completed" and oid not in first_line:
                    order = (await self.api.order(oid))["order"]
                    platinum = order["customer"]["tier"] == "platinum"
                    first_line[oid] = "" if platinum else order["lines"][0]["sku"]
            picks = [(oid, first_line[oid]) for oid in order_ids
                     if oid in first_line and first_line[oid] in returnable]
            if len(picks) >= wanted or all(statuses[oid] in SETTLED for oid in order_ids):
                return picks[:wanted]
            await asyncio.sleep(POLL_SECONDS)

    async def _run(self, order_ids: list[str]) -> None:
        picks = await self._delivered(order_ids, len(ASKS))
        rmas: dict[str, str] = {}
        for (order_id, sku), (line, resolution, expected) in zip(picks, ASKS, strict=False):
            r = await self.api.request_return(
                order_id, {"lines": [{"sku": sku, "quantity": 1, **line}], "resolution": resolution})
            body = r.json()
            if r.status_code not in (200, 202):
                self.events.append(f"[red]return for {order_id} refused: {body}[/]")
                continue
            rmas[body["rma"]] = expected
            self.events.append(f"{body['rma']}: 1 x {sku}, {line['reason']}, {line['condition']}, "
                               f"asks for {resolution}")
        outcome: dict[str, str] = {}
        while len(outcome) < len(rmas):
            for rma in rmas:
                if rma in outcome:
                    continue
                state = await self.api.return_state(rma)
                if state.get("status") in FINAL_RETURN:
                    outcome[rma] = state["status"]
                    detail = (
                        f"refunded {state['refund']['amount']}" if state.get("refund")
                        else f"replacement {state['replacement_order_id']}"
                        if state.get("replacement_order_id")
                        else "; ".join(state.get("notes", [])[-1:])
                    )
                    self.events.append(f"{rma}: {state['status']} ({detail or state['lines'][0]['why']})")
            await asyncio.sleep(POLL_SECONDS)
        self.summary = {s: sum(1 for v in outcome.values() if v == s)
                        for s in ("refunded", "exchanged", "rejected")}
        self.summary["as_expected"] = all(outcome.get(r) == e for r, e in rmas.items())
