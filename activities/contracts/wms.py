"""The warehouse management system (Qimen): delivery orders, transfers, stock snapshots and
return orders. A refusal is `ExceptionKind.WMS_REJECTED`."""

from __future__ import annotations

from activities.contracts.base import Activity
from config import queues
from domain.messages import DeliveryOrderRef, DeliveryOrderRequest
from domain.returns import ReturnOrderRequest
from domain.stock_messages import SnapshotRequest, StockSnapshot, TransferRequest

Q = queues.WMS
CREATE_DELIVERY_ORDER = Activity("wms_create_delivery_order", DeliveryOrderRequest, DeliveryOrderRef, Q)
CANCEL_DELIVERY_ORDER = Activity("wms_cancel_delivery_order", DeliveryOrderRef, type(None), Q)
TRANSFER = Activity("wms_transfer", TransferRequest, type(None), Q)
SNAPSHOT = Activity("wms_inventory_snapshot", SnapshotRequest, StockSnapshot, Q)
CREATE_RETURN_ORDER = Activity("wms_create_return_order", ReturnOrderRequest, type(None), Q)
