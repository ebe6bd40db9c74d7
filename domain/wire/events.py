"""A tracking event as read off any carrier's push, before it reaches a shipment."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.tracking import TrackingState


class CarrierEvent(BaseModel):
    waybill_no: str
    reference: str = ""  # our shipment id when the carrier echoes it (SF orderid, ZTO orderCode)
    code: str  # the carrier's own code, kept for the record
    state: TrackingState
    remark: str = ""
    # When the carrier's history of this waybill begins, if the push says (Kuaidi100 sends
    # the whole history): a parcel with the same number that finished before then is not it.
    history_from: datetime | None = None
