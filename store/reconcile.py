"""Compare the WMS's stock snapshot with the ledger, and book confirmed drift as adjustments
(defective stock as `defective` movements).

The WMS takes stock out of its sellable count when it accepts a delivery order, Ordo when
the parcel has a waybill; between the two the parcel's units are `at_warehouse` in the
shipments table and are allowed for. Rows with a parcel still `pending` (the WMS may or may
not have it yet) are left for the next run rather than guessed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.records import InventoryAlertRecord
from domain.stock_messages import CorrectionResult, Difference, Differences, StockSnapshot
from store import ledger
from store import tables as t


async def differences(engine: AsyncEngine, snapshot: StockSnapshot, warehouses: list[str]) -> Differences:
    """Sellable (ZP) units against on hand, allowing for parcels; defective (CC) units against
    the defective count."""
    wanted = set(warehouses)
    wms = {(i.sku, i.warehouse, i.inventory_type): i.quantity
           for i in snapshot.items if i.warehouse in wanted}
    ordo: dict[tuple[str, str, str], int] = {}
    async with engine.connect() as conn:
        for row in await conn.execute(
            select(t.stock.c.sku, t.stock.c.warehouse, t.stock.c.on_hand, t.stock.c.defective).where(
                t.stock.c.warehouse.in_(warehouses)
            )
        ):
            ordo[(row.sku, row.warehouse, "ZP")] = int(row.on_hand)
            if row.defective:
                ordo[(row.sku, row.warehouse, "CC")] = int(row.defective)
        held_by_wms: dict[tuple[str, str, str], int] = {}
        unsettled: set[tuple[str, str, str]] = set()
        for r in await conn.execute(
            select(t.shipments.c.warehouse, t.shipments.c.lines, t.shipments.c.status).where(
                t.shipments.c.status.in_(("pending", "at_warehouse")), t.shipments.c.warehouse.in_(warehouses)
            )
        ):
            for line in r.lines:
                key = (str(line["sku"]), r.warehouse, "ZP")
                if r.status == "pending":
                    unsettled.add(key)
                else:
                    held_by_wms[key] = held_by_wms.get(key, 0) + int(line["quantity"])
    found = []
    keys = sorted(set(wms) | set(ordo))
    for key in keys:
        if key in unsettled:
            continue
        expected = ordo.get(key, 0) - held_by_wms.get(key, 0)
        if wms.get(key, 0) != expected:
            found.append(Difference(sku=key[0], warehouse=key[1], inventory_type=key[2], ordo=expected,
                                    wms=wms.get(key, 0)))
    return Differences(checked=len(keys), differences=found)


async def correct(
    engine: AsyncEngine, run_id: str, found: list[Difference], alert_units: int
) -> CorrectionResult:
    """Each confirmed difference becomes one adjustment (idempotent per run, SKU and
    warehouse); one larger than `alert_units`, or one that cannot be booked because the
    WMS has fewer units than orders hold, is also an alert for a person."""
    result = CorrectionResult()
    for d in found:
        change = ledger.StockChange(
            out_biz_code=f"reconcile:{run_id}:{d.sku}:{d.warehouse}"[:100],
            sku=d.sku,
            warehouse=d.warehouse,
            quantity=d.delta,
            order_type="RECONCILE",
            inventory_type=d.inventory_type,
        )
        outcome = await ledger.apply_stock_change(engine, change)
        if outcome in ("applied", "duplicate"):
            result.corrected.append(d)
            if abs(d.delta) > alert_units:
                await raise_alert(
                    engine,
                    "drift",
                    d.sku,
                    d.warehouse,
                    f"WMS counts {d.wms}{_kind(d)}, Ordo expected {d.ordo}: corrected by {d.delta:+d} "
                    f"(over the {alert_units}-unit threshold; look for a lost stock report)",
                )
                result.alerts += 1
        else:
            result.refused.append(f"{d.sku}@{d.warehouse}: {outcome}")
            await raise_alert(
                engine,
                "drift_not_corrected",
                d.sku,
                d.warehouse,
                f"WMS counts {d.wms}{_kind(d)}, Ordo expected {d.ordo}, not corrected: {outcome}",
            )
            result.alerts += 1
    return result


def _kind(d: Difference) -> str:
    return " defective" if d.inventory_type == "CC" else ""


async def raise_alert(engine: AsyncEngine, kind: str, sku: str, warehouse: str, detail: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            t.inventory_alerts.insert().values(kind=kind, sku=sku, warehouse=warehouse, detail=detail[:500])
        )


async def alerts(engine: AsyncEngine, limit: int = 100) -> list[InventoryAlertRecord]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.inventory_alerts).order_by(t.inventory_alerts.c.id.desc()).limit(limit)
        )
        return [InventoryAlertRecord.model_validate(r._mapping) for r in rows]
