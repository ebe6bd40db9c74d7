"""What must hold after any fault, checked from the outside: Ordo's database, Temporal's
visibility and the simulators' own books (the gateway's ledger, the carriers' bookings).
The checks are pure functions over what was gathered, so each can be shown to fail."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from cli.chaos.load import Sent
from config.settings import Settings
from domain.status import SETTLED, OrderStatus
from store import ledger
from store import orders as order_store
from store import tables as t

SETTLED_NAMES = {s.value for s in SETTLED}
NOT_YET_TRAVELLING = {"pending", "at_warehouse", "waybill_created"}
DELIVERED_CODE = "80"  # the carrier simulator's last journey step (SF opCode 80, 已签收)


def intake_violations(sent: dict[str, Sent]) -> list[str]:
    found = []
    for s in sent.values():
        if len(s.order_ids) > 1:
            found.append(f"{s.external_id}: the API answered with {len(s.order_ids)} order ids "
                         f"{sorted(s.order_ids)} for one sale")
        if not s.order_ids:
            found.append(f"{s.external_id}: never acknowledged ({s.refused or 'no answer'})")
    return found


def workflow_violations(order_ids: list[str], runs: Counter[str]) -> list[str]:
    return [f"{oid}: {runs[f'order-{oid}']} order workflow runs, not 1" for oid in order_ids
            if runs[f"order-{oid}"] != 1]


def payment_violations(statuses: dict[str, str], book: dict[str, Any]) -> list[str]:
    """At most one authorisation and one capture per order, a capture within its
    authorisation, refunds within the capture, a cancelled order's money given back."""
    found = []
    for oid, status in statuses.items():
        auths = [a for a in book["auths"].values() if a["out_order_no"] == oid]
        trade = book["trades"].get(oid)
        refunded = sum((Decimal(r["send_back_fee"]) for r in book["refunds"].values()
                        if r["out_trade_no"] == oid), Decimal(0))
        captured = Decimal(trade["total_amount"]) if trade else Decimal(0)
        if len(auths) > 1:
            found.append(f"{oid}: {len(auths)} authorisations")
        if trade and auths and captured > Decimal(auths[0]["amount"]):
            found.append(f"{oid}: captured {captured}, more than the {auths[0]['amount']} authorised")
        if refunded > captured:
            found.append(f"{oid}: refunded {refunded}, more than the {captured} captured")
        live = [a["auth_no"] for a in auths if a["status"] == "SUCCESS"]
        if status == OrderStatus.CANCELLED and live:
            found.append(f"{oid}: cancelled, but authorisation {live[0]} is still frozen (not voided)")
        if status == OrderStatus.CANCELLED and refunded < captured:
            found.append(f"{oid}: cancelled after a capture of {captured}, only {refunded} refunded")
        if status == OrderStatus.COMPLETED and live:
            found.append(f"{oid}: completed, but authorisation {live[0]} was neither captured nor voided")
    return found


def push_violations(bookings: dict[str, dict[str, Any]], shipments: dict[str, tuple[str, str]]) -> list[str]:
    """Every push the carrier counts as acknowledged reached the parcel it was about: a parcel
    the carrier saw collected is travelling in Ordo, one it saw delivered is delivered."""
    found = []
    for rec in bookings.values():
        if rec["cancelled"] or not rec.get("acked") or rec.get("abandoned"):
            continue
        parcel = rec["orderId"]
        status, waybill = shipments.get(parcel, ("missing", ""))
        if waybill != rec["waybill"]:
            found.append(f"{parcel}: the carrier's waybill {rec['waybill']} is not Ordo's "
                         f"({waybill or 'none'})")
        elif status in NOT_YET_TRAVELLING or status == "missing":
            found.append(f"{parcel}: {rec['acked']} push(es) acknowledged, but Ordo has it {status}")
        elif (rec.get("done") and rec["route"] and rec["route"][-1] == DELIVERED_CODE
              and rec["acked"] == len(rec["route"]) and status != "delivered"):
            found.append(f"{parcel}: delivery acknowledged to the carrier, but Ordo has it {status}")
    return found


def stock_violations(stock: list[tuple[str, str, int, int]], drift: list[str],
                     held_when_closed: list[tuple[str, str]]) -> list[str]:
    found = [f"{sku}@{wh}: reserved {reserved} of {on_hand} on hand" for sku, wh, on_hand, reserved in stock
             if reserved > on_hand or reserved < 0]
    found += [f"ledger audit: {d}" for d in drift]
    found += [f"{oid}: is {status} but still holds a stock reservation" for oid, status in held_when_closed]
    return found


@dataclass
class Findings:
    settled: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    stuck: dict[str, str] = field(default_factory=dict)  # order id -> status
    violations: list[str] = field(default_factory=list)


async def order_runs(client: Client, order_ids: list[str]) -> Counter[str]:
    runs: Counter[str] = Counter()
    for i in range(0, len(order_ids), 50):  # visibility queries stay short
        chunk = ", ".join(f"'order-{oid}'" for oid in order_ids[i:i + 50])
        async for wf in client.list_workflows(f"WorkflowId IN ({chunk})"):
            runs[wf.id] += 1
    return runs


async def check(settings: Settings, db: AsyncEngine, client: Client, sent: dict[str, Sent],
                parcel_prefix: str) -> Findings:
    order_ids = sorted(oid for s in sent.values() for oid in s.order_ids)
    statuses = await order_store.statuses(db, order_ids)
    found = Findings(settled=sum(1 for s in statuses.values() if s in SETTLED_NAMES))
    found.stuck = {oid: s for oid, s in statuses.items() if s not in SETTLED_NAMES}
    found.by_status = dict(Counter(statuses.values()))
    found.violations += intake_violations(sent)
    found.violations += workflow_violations(order_ids, await order_runs(client, order_ids))
    async with httpx.AsyncClient(timeout=30) as http:
        book = (await http.get(f"{settings.payments_url}/admin/ledger")).json()
        bookings = (await http.get(f"{settings.carriers_url}/admin/waybills")).json()["waybills"]
    found.violations += payment_violations(statuses, book)
    mine = {k: b for k, b in bookings.items() if str(b["orderId"]).startswith(parcel_prefix)}
    async with db.connect() as conn:
        shipments = {r.shipment_id: (r.status, r.waybill_no) for r in await conn.execute(
            select(t.shipments.c.shipment_id, t.shipments.c.status, t.shipments.c.waybill_no)
            .where(t.shipments.c.order_id.in_(order_ids)))}
        stock = [(r.sku, r.warehouse, int(r.on_hand), int(r.reserved)) for r in await conn.execute(
            select(t.stock.c.sku, t.stock.c.warehouse, t.stock.c.on_hand, t.stock.c.reserved))]
        held = {r.order_id for r in await conn.execute(
            select(t.reservations.c.order_id).where(t.reservations.c.order_id.in_(order_ids),
                                                    t.reservations.c.status == "held"))}
    found.violations += push_violations(mine, shipments)
    _, drift = await ledger.audit(db)
    closed = {OrderStatus.COMPLETED.value, OrderStatus.CANCELLED.value}
    found.violations += stock_violations(stock, [f"{d.sku}@{d.warehouse}: {d.describe()}" for d in drift],
                                         sorted((o, statuses[o]) for o in held if statuses.get(o) in closed))
    return found
