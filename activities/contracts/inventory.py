"""Stock in the OMS ledger as the inventory workflows use it: local activities in the
orders worker (transfers booked, snapshots compared, corrections, rebalancing)."""

from __future__ import annotations

from activities.contracts.base import Activity
from config import queues
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

Q = queues.ORDERS
WAREHOUSE_CODES = Activity("warehouse_codes", type(None), list[str], Q, local=True)
STOCK_DIFFERENCES = Activity("stock_differences", DifferencesRequest, Differences, Q, local=True)
CORRECT_STOCK = Activity("correct_stock", CorrectionRequest, CorrectionResult, Q, local=True)
ALERT = Activity("inventory_alert", InventoryAlert, type(None), Q, local=True)
DISPATCH_TRANSFER = Activity("dispatch_transfer", TransferRequest, str, Q, local=True)
CANCEL_TRANSFER = Activity("cancel_transfer", TransferCancel, str, Q, local=True)
RECEIVE_TRANSFER = Activity("receive_transfer", TransferReceipt, str, Q, local=True)
BACKORDERED_ORDERS = Activity("backordered_orders", SkuRequest, list[str], Q, local=True)
PLAN_REBALANCE = Activity("plan_rebalance", RebalanceRequest, RebalanceReport, Q, local=True)
