"""Reconciliation with the WMS, transfers and rebalancing on the time-skipping server, with
the WMS simulator keeping its own stock."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from config import queues
from domain.messages import OrderState
from domain.records import WarehouseStock
from domain.status import OrderStatus
from domain.stock_messages import (
    ReconcileReport,
    ReconcileRequest,
    TransferArrival,
    TransferRequest,
    TransferResult,
    transfer_workflow_id,
)
from store import ledger
from store import tables as t
from store.inventory import stock_row
from tests.factories import make_order
from tests.harness import wait_until
from tests.workflow.conftest import WorkflowStack
from tests.workflow.test_lifecycle import deliver_all, set_stock, start, status_is
from workflows.inventory import RebalanceWorkflow, ReconcileWorkflow, TransferWorkflow


async def wms_admin(wf: WorkflowStack, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(base_url=wf.urls["wms"]) as http:
        resp = await http.request(method, path, **kw)
        resp.raise_for_status()
        return resp.json()


async def seed_wms_from_ledger(wf: WorkflowStack) -> None:
    """The WMS starts where Ordo's books are, as after a go-live stocktake."""
    async with wf.db.connect() as conn:
        stock = t.stock.c
        rows = (await conn.execute(select(stock.warehouse, stock.sku, stock.on_hand, stock.defective))).all()
    await wms_admin(
        wf,
        "PUT",
        "/admin/stock",
        json={"stock": [{"warehouse": w, "sku": s, "quantity": q, "defective": d} for w, s, q, d in rows]},
    )


async def reconcile(wf: WorkflowStack) -> ReconcileReport:
    return await wf.client.execute_workflow(
        ReconcileWorkflow.run,
        ReconcileRequest(confirm_seconds=120, alert_units=5),
        id=f"reconcile-{uuid.uuid4()}",
        task_queue=queues.ORDERS,
    )


@pytest.mark.records("inventory-reconcile")
async def test_reconciliation_corrects_drift_alerts_above_the_threshold_and_allows_for_parcels(
    wf: WorkflowStack,
) -> None:
    await seed_wms_from_ledger(wf)
    assert (await reconcile(wf)).seen == 0

    coke_gz, rice_sh = (
        await stock_row(wf.db, "COKE-330-24", "GZ-01"),
        await stock_row(wf.db, "RICE-5KG", "SH-01"),
    )
    # Lost messages: damage of 7 and a stocktake finding 2 more, never reported to Ordo.
    await wms_admin(
        wf,
        "POST",
        "/admin/events",
        json={"type": "damage", "warehouse": "GZ-01", "sku": "COKE-330-24", "quantity": 7, "silent": True},
    )
    await wms_admin(
        wf,
        "POST",
        "/admin/events",
        json={"type": "count", "warehouse": "SH-01", "sku": "RICE-5KG", "quantity": 2, "silent": True},
    )
    # A stocktake that finds 3 defective T-shirts in the returns corner, not reported either.
    await wms_admin(
        wf,
        "POST",
        "/admin/events",
        json={"type": "count", "warehouse": "SH-01", "sku": "TSHIRT-M", "quantity": 3, "inventory_type": "CC",
              "silent": True},
    )
    # And a parcel the WMS accepted that has no waybill yet: stock in motion, not drift.
    async with wf.db.begin() as conn:
        await conn.execute(
            t.shipments.insert().values(
                shipment_id="recon-p1",
                order_id="recon",
                warehouse="SH-01",
                service="standard",
                weight_g=1,
                lines=[{"sku": "TSHIRT-M", "quantity": 2}],
                status="at_warehouse",
            )
        )
    await wms_admin(
        wf,
        "POST",
        "/admin/events",
        json={"type": "damage", "warehouse": "SH-01", "sku": "TSHIRT-M", "quantity": 2, "silent": True},
    )

    report = await reconcile(wf)

    assert sorted((d.sku, d.warehouse, d.inventory_type, d.delta) for d in report.corrected) == [
        ("COKE-330-24", "GZ-01", "ZP", -7),
        ("RICE-5KG", "SH-01", "ZP", 2),
        ("TSHIRT-M", "SH-01", "CC", 3),  # defective stock is reconciled too, apart from sellable
    ]
    assert report.alerts == 1 and report.refused == []
    assert await stock_row(wf.db, "COKE-330-24", "GZ-01") == (coke_gz[0] - 7, coke_gz[1])
    assert await stock_row(wf.db, "RICE-5KG", "SH-01") == (rice_sh[0] + 2, rice_sh[1])
    [tshirt] = [lv for lv in await ledger.availability(wf.db, "TSHIRT-M") if lv.warehouse == "SH-01"]
    assert tshirt.defective == 3
    _, drift = await ledger.audit(wf.db)
    assert drift == []  # corrections are ledger rows like any other movement
    async with wf.db.connect() as conn:
        alerts = (await conn.execute(select(t.inventory_alerts.c.kind, t.inventory_alerts.c.sku))).all()
    assert [tuple(a) for a in alerts] == [("drift", "COKE-330-24")]
    assert (await reconcile(wf)).seen == 0  # in step again


@pytest.mark.records("inventory-transfer")
async def test_a_transfer_is_in_transit_until_received_and_never_reservable_on_the_way(
    wf: WorkflowStack,
) -> None:
    await set_stock(wf, "RICE-5KG", {"SH-01": 0, "GZ-01": 0, "BJ-01": 6, "CD-01": 0})
    await seed_wms_from_ledger(wf)
    req = TransferRequest(
        transfer_id="TR-T1",
        sku="RICE-5KG",
        from_warehouse="BJ-01",
        to_warehouse="GZ-01",
        quantity=4,
        overdue_hours=24,
    )
    handle = await wf.client.start_workflow(
        TransferWorkflow.run, req, id=transfer_workflow_id("TR-T1"), task_queue=queues.ORDERS
    )

    async def in_transit() -> dict[str, WarehouseStock] | None:
        levels = {lv.warehouse: lv for lv in await ledger.availability(wf.db, "RICE-5KG")}
        return levels if levels["GZ-01"].in_transit == 4 else None

    levels = await wait_until(in_transit, "the transfer to be on its way")
    assert (levels["BJ-01"].on_hand, levels["GZ-01"].on_hand, levels["GZ-01"].available) == (2, 0, 0)
    await wait_until(lambda: _sim_has_transfer(wf, "TR-T1"), "the WMS to have the transfer")
    sim = await wms_admin(wf, "GET", "/admin/orders")
    assert (sim["transfers"]["TR-T1"]["from"], sim["transfers"]["TR-T1"]["to"]) == ("BJ-01", "GZ-01")

    await wf.env.sleep(25 * 3600)  # overdue: an alert, and the transfer keeps waiting
    assert await _alert_kinds(wf) == ["transfer_overdue"]
    # An order to Guangzhou for 3 while 4 are on the way: not reservable, so it waits.
    order = await start(wf, make_order("tr-wait", [("RICE-5KG", 3)], province="广东省"))
    await wait_until(lambda: status_is(order, OrderStatus.BACKORDERED), "the order to be backordered")
    await handle.signal(TransferWorkflow.arrived, TransferArrival(received=4))
    result: TransferResult = await handle.result()

    assert result.status == "received" and result.resumed == [make_order("tr-wait").order_id]
    await deliver_all(wf, order, expected_parcels=1)
    final: OrderState = await order.result()
    assert final.status == OrderStatus.COMPLETED and {a.warehouse for a in final.allocations} == {"GZ-01"}
    assert (await ledger.audit(wf.db))[1] == []


@pytest.mark.records("inventory-rebalance")
async def test_rebalancing_moves_stock_to_a_region_with_waiting_orders_and_the_order_completes(
    wf: WorkflowStack,
) -> None:
    """A 34-yuan order to Beijing may come from one warehouse only (split rules); Beijing has
    1 of the 2 noodle packs, Shanghai 1. The transfer rules send Shanghai's to Beijing."""
    await set_stock(wf, "NOODLE-5PK", {"SH-01": 1, "GZ-01": 0, "BJ-01": 1, "CD-01": 0})
    await seed_wms_from_ledger(wf)
    order = await start(
        wf,
        make_order(
            "rebal-1",
            [("NOODLE-5PK", 2)],
            province="北京市",
            shipping="0.00",
            unit_prices={"NOODLE-5PK": Decimal("16.90")},
        ),
    )
    await wait_until(lambda: status_is(order, OrderStatus.BACKORDERED), "the order to be backordered")

    report = await wf.client.execute_workflow(
        RebalanceWorkflow.run, id="rebalance-1", task_queue=queues.ORDERS
    )
    [tr] = report.transfers
    assert (tr.sku, tr.from_warehouse, tr.to_warehouse, tr.quantity) == ("NOODLE-5PK", "SH-01", "BJ-01", 1)
    handle = wf.client.get_workflow_handle(transfer_workflow_id(tr.transfer_id))
    await wait_until(lambda: _sim_has_transfer(wf, tr.transfer_id), "the WMS to have the transfer")
    again = await wf.client.execute_workflow(
        RebalanceWorkflow.run, id="rebalance-2", task_queue=queues.ORDERS
    )
    assert again.transfers == []  # what is on the way counts: no second truck

    await handle.signal(TransferWorkflow.arrived, TransferArrival(received=1))
    await deliver_all(wf, order, expected_parcels=1)
    final: OrderState = await order.result()
    assert final.status == OrderStatus.COMPLETED
    assert [(a.warehouse, a.quantity) for a in final.allocations] == [("BJ-01", 2)]
    async with wf.db.connect() as conn:
        decided = (
            await conn.execute(select(t.decisions.c.fired).where(t.decisions.c.step == "rebalance"))
        ).all()
    assert ["backorders-the-region-cannot-serve"] in [list(r.fired) for r in decided]


async def _sim_has_transfer(wf: WorkflowStack, transfer_id: str) -> bool:
    sim = await wms_admin(wf, "GET", "/admin/orders")
    return bool(sim["transfers"].get(transfer_id, {}).get("to"))


async def _alert_kinds(wf: WorkflowStack) -> list[str]:
    async with wf.db.connect() as conn:
        return [r.kind for r in await conn.execute(select(t.inventory_alerts.c.kind))]
