"""Sales channels told that a parcel left (Shopify fulfillments, Taobao offline send)."""

from __future__ import annotations

from activities.contracts.base import Activity
from config import queues
from domain.messages import ShipmentNotice

Q = queues.CHANNELS
CONFIRM_SHIPMENT = Activity("channel_confirm_shipment", ShipmentNotice, str, Q)
