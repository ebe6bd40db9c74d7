"""What a person can ask of the order list (the console's filters, the API's query string,
the dashboard's "orders behind this figure"): one model, so every door asks the same way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Orders waiting for a person: the console's work queue.
WAITING = ("on_hold", "awaiting_operator")


class OrderQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str | None = None
    status: str | None = None
    priority: str | None = None
    tier: str | None = None
    exception_type: str | None = None
    date_from: date | None = Field(None, description="created on or after this day (UTC)")
    date_to: date | None = Field(None, description="created on or before this day (UTC)")
    sku: str | None = None
    warehouse: str | None = Field(None, description="has a parcel from this warehouse")
    min_total: Decimal | None = Field(None, ge=0)
    max_total: Decimal | None = Field(None, ge=0)
    order_id: str | None = Field(None, description="the whole id, or its start")
    customer_id: str | None = None
    # the dashboard's links: shipped after the ship-by deadline / shipped at all / a refunded return
    shipped: Literal["late", "on_time", "yes"] | None = None
    refunded: bool | None = None
    page: int = Field(1, ge=1)
    per_page: int = Field(50, ge=1, le=500)

    @model_validator(mode="after")
    def _ranges(self) -> OrderQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        if self.min_total is not None and self.max_total is not None and self.min_total > self.max_total:
            raise ValueError("min_total is above max_total")
        return self


class OrderRow(BaseModel):
    """One line of the order list: no personal data, so nothing to mask."""

    order_id: str
    channel: str
    status: str
    priority: str
    customer_id: str
    customer_tier: str
    exception_type: str
    total: Decimal
    currency: str
    units: int
    created_at: str
    ship_by: str | None
    shipped_at: str | None


class OrderPage(BaseModel):
    rows: list[OrderRow]
    total: int
    page: int
    per_page: int
