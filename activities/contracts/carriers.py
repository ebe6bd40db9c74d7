"""Carriers' booking APIs: a waybill booked under `WaybillRequest.booking_id` (so a retry
returns the first one) and cancelled. A refusal is `ExceptionKind.CARRIER_REJECTED`."""

from __future__ import annotations

from activities.contracts.base import Activity
from config import queues
from domain.messages import CancelWaybillRequest, Waybill, WaybillRequest

Q = queues.CARRIERS
CREATE_WAYBILL = Activity("carrier_create_waybill", WaybillRequest, Waybill, Q)
CANCEL_WAYBILL = Activity("carrier_cancel_waybill", CancelWaybillRequest, type(None), Q)
