"""Return requests (RMAs): created once per (order, request id), then kept up to date with
the ReturnWorkflow's state so the API can answer without asking Temporal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.errors import FieldError
from domain.model import Order
from domain.records import ReturnRecord
from domain.returns import ReturnCase, ReturnedUnits, ReturnRequest, ReturnState, ReturnStatus, check_request
from store import catalog, ledger
from store import tables as t
from store.db import utc


async def create(
    engine: AsyncEngine, order_id: str, req: ReturnRequest, delivered: dict[str, int]
) -> tuple[str, bool, list[FieldError]]:
    """(rma, created, errors). The same request id again returns the first RMA; otherwise the
    lines are checked against what was delivered and what other returns claim, under a lock
    on the order's row, so two requests at once cannot both claim the same unit."""
    async with engine.begin() as conn:
        await conn.execute(
            select(t.orders.c.order_id).where(t.orders.c.order_id == order_id).with_for_update()
        )
        found = (
            await conn.execute(
                select(t.returns.c.rma).where(
                    t.returns.c.order_id == order_id, t.returns.c.request_id == req.request_id
                )
            )
        ).first()
        if found:
            return str(found[0]), False, []
        errors = check_request(req, delivered, await _claimed(conn, order_id))
        if errors:
            return "", False, errors
        n = (
            await conn.execute(
                select(func.count()).select_from(t.returns).where(t.returns.c.order_id == order_id)
            )
        ).scalar_one()
        rma = f"RMA-{order_id}-{n + 1}"
        await conn.execute(
            t.returns.insert().values(
                rma=rma,
                order_id=order_id,
                request_id=req.request_id,
                status=ReturnStatus.REQUESTED.value,
                request=req.model_dump(mode="json"),
            )
        )
    return rma, True, []


async def _claimed(conn: AsyncConnection, order_id: str) -> dict[str, int]:
    """Units of each SKU that live or finished returns (not rejected or expired) claim."""
    rows = (
        await conn.execute(
            select(t.returns.c.status, t.returns.c.request, t.returns.c.state).where(
                t.returns.c.order_id == order_id
            )
        )
    ).all()
    claimed: dict[str, int] = {}
    for status, request, state in rows:
        if status in (ReturnStatus.REJECTED.value, ReturnStatus.EXPIRED.value):
            continue
        if state:  # decided: only the lines not rejected hold units
            lines = [(ln["sku"], ln["quantity"]) for ln in state["lines"] if ln.get("decision") != "reject"]
        else:
            lines = [(ln["sku"], ln["quantity"]) for ln in request["lines"]]
        for sku, qty in lines:
            claimed[sku] = claimed.get(sku, 0) + int(qty)
    return claimed


async def save_state(engine: AsyncEngine, state: ReturnState) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(t.returns)
            .where(t.returns.c.rma == state.rma)
            .values(status=state.status.value, state=state.model_dump(mode="json"), updated_at=func.now())
        )


async def get(engine: AsyncEngine, rma: str) -> ReturnRecord | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(t.returns).where(t.returns.c.rma == rma))).first()
    return ReturnRecord.model_validate(row._mapping) if row else None


async def for_order(engine: AsyncEngine, order_id: str) -> list[ReturnRecord]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(t.returns).where(t.returns.c.order_id == order_id).order_by(t.returns.c.created_at)
            )
        ).all()
    return [ReturnRecord.model_validate(r._mapping) for r in rows]


async def delivered_units(
    engine: AsyncEngine, order_id: str
) -> tuple[dict[str, int], dict[str, dict[str, str]], datetime | None]:
    """(units delivered per SKU, {SKU: {warehouse, carrier}} of the parcel that brought it,
    when the last parcel was delivered)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(t.shipments)
                .where(t.shipments.c.order_id == order_id, t.shipments.c.status == "delivered")
                .order_by(t.shipments.c.shipment_id)
            )
        ).all()
    units: dict[str, int] = {}
    source: dict[str, dict[str, str]] = {}
    last = None
    for r in rows:
        for ln in r.lines:
            units[ln["sku"]] = units.get(ln["sku"], 0) + int(ln["quantity"])
            source.setdefault(ln["sku"], {"warehouse": r.warehouse, "carrier": r.carrier})
        at = utc(r.updated_at)
        last = at if last is None or at > last else last
    return units, source, last


async def case_for(engine: AsyncEngine, rma: str, order_id: str, req: ReturnRequest) -> ReturnCase:
    """What the ReturnWorkflow is started with: the order as placed, where each returned SKU
    came from, and the product facts the returns rules look at."""
    delivered, source, delivered_at = await delivered_units(engine, order_id)
    async with engine.connect() as conn:
        payload = (
            await conn.execute(select(t.orders.c.payload).where(t.orders.c.order_id == order_id))
        ).scalar_one()
        products = await catalog.products_by_sku(conn, [ln.sku for ln in req.lines])
        warehouses = {w.code: w.province for w in await catalog.all_warehouses(conn)}
    order = Order.model_validate(payload)
    ordered: dict[str, int] = {}
    for ln in order.lines:
        ordered[ln.sku] = ordered.get(ln.sku, 0) + ln.quantity
    asked = {ln.sku: ln.quantity for ln in req.lines}
    return ReturnCase(
        rma=rma,
        order=order,
        request=req,
        delivered_at=delivered_at,
        warehouse_of={s: v["warehouse"] for s, v in source.items()},
        product_facts={
            s: {
                "returnable": p.returnable,
                "hazmat": p.hazmat,
                "weight_g": p.weight_g,
                "volume_cm3": p.volume_cm3,
            }
            for s, p in products.items()
        },
        whole_order=asked == ordered == delivered,
        warehouse_province=warehouses,
    )


async def book_returned_units(engine: AsyncEngine, units: ReturnedUnits) -> str:
    """Returned units into the ledger, once per RMA, SKU and grade: sellable (restock) units
    on hand as a THRK receipt, defective (refurbish) units into the defective count, which is
    never sold; disposed units are scrapped by the warehouse and not booked. Booked when the
    WMS confirms the receipt, so the ledger moves when the warehouse's count does (a
    reconciliation in between would see drift otherwise); the ReturnWorkflow books the same
    key again as a backstop. `applied`, `duplicate`, or why not."""
    if units.grade == "dispose":
        return "not booked: disposed by the warehouse"
    return await ledger.apply_stock_change(
        engine,
        ledger.StockChange(out_biz_code=f"{units.rma}:{units.sku}"[:96], sku=units.sku,
                           warehouse=units.warehouse, quantity=units.quantity, order_type="THRK",
                           inventory_type="ZP" if units.grade == "restock" else "CC"),
    )
