"""The returns side of `ordo up`'s demo: once demo orders are delivered, three customers ask
for returns over the API - a change of mind refunded after the warehouse restocks the unit,
a size swap sent as a linked replacement order, and a used item the rules refuse. The WMS
simulator receives and grades each return parcel by itself a moment after its label."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from config.settings import Settings
from domain.returns import FINAL_RETURN
from store import tables as t
from store.db import make_engine

SETTLED = ("completed", "cancelled", "awaiting_operator")
ASKS = (  # (what the customer asks, what the rules should make of it)
    ({"reason": "changed_mind", "condition": "unopened"}, "refund", "refunded"),
    ({"reason": "size_fit", "condition": "unopened"}, "exchange", "exchanged"),
    ({"reason": "changed_mind", "condition": "used"}, "refund", "rejected"),
)


@dataclass
class ReturnsDemo:
    settings: Settings
    events: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    done: bool = False

    async def run(self, order_ids: list[str], timeout: float = 300) -> None:
        try:
            await asyncio.wait_for(self._run(order_ids), timeout)
        except Exception as exc:  # the order demo goes on; the log shows what failed
            self.events.append(f"[red]returns demo stopped: {exc!r}[/]")
        self.done = True

    async def _delivered(self, order_ids: list[str], wanted: int) -> list[tuple[str, str]]:
        """(order id, a returnable SKU) of the first completed orders, in the demo's order;
        fewer when every demo order has settled and no more qualify (a small demo)."""
        engine = make_engine(self.settings.effective_database_url, readonly=True)
        try:
            async with engine.connect() as conn:
                returnable = {  # everyday goods: a phone would wait for an operator's review
                    r[0]
                    for r in await conn.execute(
                        select(t.products.c.sku).where(
                            t.products.c.returnable,
                            t.products.c.hazmat.is_(False),
                            t.products.c.unit_price < 1000,
                        )
                    )
                }
            while True:
                async with engine.connect() as conn:
                    everything = (
                        await conn.execute(
                            select(t.orders.c.order_id, t.orders.c.payload, t.orders.c.status).where(
                                t.orders.c.order_id.in_(order_ids)
                            )
                        )
                    ).all()
                by_id = {oid: payload for oid, payload, status in everything if status == "completed"}
                settled = len(everything) == len(order_ids) and all(s in SETTLED for _, _, s in everything)
                picks = [
                    (oid, ln["sku"])
                    for oid in order_ids
                    if oid in by_id
                    for ln in by_id[oid]["lines"][:1]
                    if ln["sku"] in returnable
                ]
                if len(picks) >= wanted or settled:
                    return picks[:wanted]
                await asyncio.sleep(1)
        finally:
            await engine.dispose()

    async def _run(self, order_ids: list[str]) -> None:
        api = self.settings.api_url
        picks = await self._delivered(order_ids, len(ASKS))
        rmas: dict[str, str] = {}
        async with httpx.AsyncClient(timeout=30) as http:
            for (order_id, sku), (line, resolution, expected) in zip(picks, ASKS, strict=False):
                r = await http.post(
                    f"{api}/v1/orders/{order_id}/returns",
                    json={"lines": [{"sku": sku, "quantity": 1, **line}], "resolution": resolution},
                )
                body = r.json()
                if r.status_code not in (200, 202):
                    self.events.append(f"[red]return for {order_id} refused: {body}[/]")
                    continue
                rmas[body["rma"]] = expected
                self.events.append(
                    f"{body['rma']}: 1 x {sku}, {line['reason']}, {line['condition']}, asks for {resolution}"
                )
            outcome: dict[str, str] = {}
            while len(outcome) < len(rmas):
                for rma in rmas:
                    if rma in outcome:
                        continue
                    state = (await http.get(f"{api}/v1/returns/{rma}")).json().get("state") or {}
                    if state.get("status") in FINAL_RETURN:
                        outcome[rma] = state["status"]
                        detail = (
                            f"refunded {state['refund']['amount']}"
                            if state.get("refund")
                            else f"replacement {state['replacement_order_id']}"
                            if state.get("replacement_order_id")
                            else "; ".join(state.get("notes", [])[-1:])
                        )
                        self.events.append(f"{rma}: {state['status']} ({detail or state['lines'][0]['why']})")
                await asyncio.sleep(1)
        self.summary = {
            s: sum(1 for v in outcome.values() if v == s) for s in ("refunded", "exchanged", "rejected")
        }
        self.summary["as_expected"] = all(outcome.get(r) == e for r, e in rmas.items())
