"""Inventory activities on the OMS database, run locally by the orders worker: snapshot
comparison and corrections, transfers booked in the ledger, rebalancing decided by
`rules/transfers.yaml`. Each write is idempotent by a key from the workflow."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.contracts import inventory as contract
from domain.geo import REGIONS, region_of
from domain.rulesets import TransferOutcome
from domain.stock_messages import (
    CorrectionRequest,
    CorrectionResult,
    Differences,
    DifferencesRequest,
    InventoryAlert,
    RebalanceReport,
    RebalanceRequest,
    SkuRequest,
    TransferCancel,
    TransferReceipt,
    TransferRequest,
)
from domain.transfers import plan_transfer, transfer_facts
from rules.engine import RuleEngine
from store import catalog, decisions, ledger, reconcile, transfers
from store import tables as t


class InventoryActivities:
    def __init__(self, db: AsyncEngine, rules: RuleEngine) -> None:
        self.db = db
        self.rules = rules

    @activity.defn(name=contract.WAREHOUSE_CODES.name)
    async def warehouse_codes(self) -> list[str]:
        async with self.db.connect() as conn:
            return [w.code for w in await catalog.all_warehouses(conn)]

    @activity.defn(name=contract.STOCK_DIFFERENCES.name)
    async def stock_differences(self, req: DifferencesRequest) -> Differences:
        return await reconcile.differences(self.db, req.snapshot, req.warehouses)

    @activity.defn(name=contract.CORRECT_STOCK.name)
    async def correct_stock(self, req: CorrectionRequest) -> CorrectionResult:
        return await reconcile.correct(self.db, req.run_id, req.differences, req.alert_units)

    @activity.defn(name=contract.ALERT.name)
    async def alert(self, req: InventoryAlert) -> None:
        await reconcile.raise_alert(self.db, req.kind, req.sku, req.warehouse, req.detail)

    @activity.defn(name=contract.DISPATCH_TRANSFER.name)
    async def dispatch_transfer(self, req: TransferRequest) -> str:
        return await transfers.dispatch(self.db, transfers.Transfer(
            req.transfer_id, req.sku, req.from_warehouse, req.to_warehouse, req.quantity))

    @activity.defn(name=contract.CANCEL_TRANSFER.name)
    async def cancel_transfer(self, req: TransferCancel) -> str:
        return await transfers.cancel(self.db, req.transfer_id, req.reason)

    @activity.defn(name=contract.RECEIVE_TRANSFER.name)
    async def receive_transfer(self, req: TransferReceipt) -> str:
        return await transfers.receive(self.db, req.transfer_id, req.received)

    @activity.defn(name=contract.BACKORDERED_ORDERS.name)
    async def backordered_orders(self, req: SkuRequest) -> list[str]:
        return await ledger.backordered_for(self.db, req.sku)

    @activity.defn(name=contract.PLAN_REBALANCE.name)
    async def plan_rebalance(self, req: RebalanceRequest) -> RebalanceReport:
        """For each SKU and region with backordered demand, ask the transfer rules; every
        decision is logged under the pseudo-order `rebalance:<run>`."""
        demand = await backorder_demand(self.db)
        report = RebalanceReport()
        if not demand:
            return report
        async with self.db.connect() as conn:
            warehouses = await catalog.all_warehouses(conn)
            products = await catalog.products_by_sku(conn, sorted({sku for sku, _ in demand}))
            rows = (await conn.execute(select(t.stock).where(t.stock.c.sku.in_(sorted(products))))).all()
        free = {(r.sku, r.warehouse): max(r.on_hand - r.reserved - r.safety_stock, 0) for r in rows}
        arriving = {(r.sku, r.warehouse): int(r.in_transit) for r in rows}
        for (sku, region), units in sorted(demand.items()):
            if sku not in products:
                continue
            mine = {w: q for (s, w), q in free.items() if s == sku}
            facts = transfer_facts(sku, str(products[sku].temperature), region, units, mine,
                                   {w: q for (s, w), q in arriving.items() if s == sku}, warehouses)
            decision = await asyncio.to_thread(self.rules.decide, "transfers", facts, "rebalance")
            await decisions.record_decision(self.db, f"rebalance:{req.run_id}",
                                            f"rebalance:{req.run_id}:{sku}:{region}", decision)
            plan = plan_transfer(facts, decision.outcome_as(TransferOutcome), mine, warehouses)
            if plan is None:
                continue
            free[(sku, plan.from_warehouse)] -= plan.quantity  # a later region sees what is left
            report.transfers.append(TransferRequest(
                transfer_id=f"TR-{req.run_id[:8]}-{sku}-{plan.to_warehouse}"[:100], sku=sku,
                from_warehouse=plan.from_warehouse, to_warehouse=plan.to_warehouse, quantity=plan.quantity,
                reason=f"{region}: {units} backordered, {facts['available']} free, "
                       f"{facts['in_transit']} on the way ({', '.join(decision.fired)})"))
        return report


async def backorder_demand(engine: AsyncEngine) -> dict[tuple[str, str], int]:
    """Units of backordered orders by SKU and destination region."""
    demand: dict[tuple[str, str], int] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.order_lines.c.sku, t.order_lines.c.quantity, t.orders.c.payload)
            .join(t.orders, t.orders.c.order_id == t.order_lines.c.order_id)
            .where(t.orders.c.status == "backordered"))
        for r in rows:
            region = region_of(str((r.payload or {}).get("shipping_address", {}).get("province", "")))
            if region in REGIONS:
                demand[(r.sku, region)] = demand.get((r.sku, region), 0) + int(r.quantity)
    return demand


