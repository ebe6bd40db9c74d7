"""The canonical order and the catalogue it refers to: every channel's payload becomes these.

Validation here is everything that can be checked without the database (quantities,
totals, address completeness); the catalogue check (unknown SKUs) happens at intake in
an activity and reports errors in the same `FieldError` shape.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.geo import is_known_province, normalise_province
from domain.money import quantize

NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")


class CustomerTier(StrEnum):
    REGULAR = "regular"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class Customer(BaseModel):
    id: NonEmpty
    tier: CustomerTier = CustomerTier.REGULAR


class Address(BaseModel):
    name: NonEmpty
    phone: Annotated[str, Field(min_length=5, max_length=30)]
    province: NonEmpty
    city: NonEmpty
    district: str = ""
    street: NonEmpty
    postal_code: str = ""

    @field_validator("province")
    @classmethod
    def _known_province(cls, value: str) -> str:
        if not is_known_province(value):
            raise ValueError(f"'{value}' is not a province of mainland China Ordo ships to")
        return normalise_province(value)


class Line(BaseModel):
    sku: NonEmpty
    quantity: int = Field(gt=0, le=10_000, description="units, more than zero")
    unit_price: Amount
    channel_line_id: str = Field(
        "", max_length=64,
        description="the channel's own id for the line (Shopify line item id, Taobao oid): the "
        "channel's return requests name lines by it")


class Payment(BaseModel):
    method: Literal["alipay", "wechat", "card", "cod"] = "alipay"
    payer_id: str = ""
    status: Literal["paid", "awaiting"] = Field(
        "paid", description="awaiting: the customer has not paid yet (bank transfer, pay later); "
        "stock is held for ORDO_UNPAID_RESERVATION_MINUTES, then released")


class Order(BaseModel):
    """An order as Ordo knows it, whatever channel it came from."""

    model_config = ConfigDict(str_strip_whitespace=True)

    channel: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")]
    external_id: NonEmpty
    customer: Customer
    lines: list[Line] = Field(min_length=1, max_length=200)
    shipping_address: Address
    payment: Payment = Payment()
    currency: Literal["CNY", "USD", "EUR", "HKD"] = "CNY"
    shipping_fee: Amount = Decimal("0")
    discount: Amount = Decimal("0")
    tax: Amount = Decimal("0")
    total: Amount
    placed_at: datetime | None = None
    review: str = Field("", max_length=2000, description=(
        "non-empty: intake could not be sure (a fuzzy product match, a refund in flight); "
        "the exception rules decide, by default a hold for an operator"))

    @field_validator("external_id")
    @classmethod
    def _usable_as_key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("use letters, digits and . _ : - only (it becomes the workflow id)")
        return value

    @model_validator(mode="after")
    def _total_adds_up(self) -> Order:
        expected = self.computed_total()
        if quantize(self.total) != expected:
            tax = f" + tax {self.tax}" if self.tax else ""
            raise ValueError(
                f"total {self.total} does not equal lines {self.subtotal()} + shipping_fee "
                f"{self.shipping_fee}{tax} - discount {self.discount} = {expected}"
            )
        return self

    def subtotal(self) -> Decimal:
        return quantize(sum((ln.unit_price * ln.quantity for ln in self.lines), Decimal("0")))

    def computed_total(self) -> Decimal:
        return quantize(self.subtotal() + self.shipping_fee + self.tax - self.discount)

    @property
    def order_id(self) -> str:
        return order_id_for(self.channel, self.external_id)

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.order_id)


def order_id_for(channel: str, external_id: str) -> str:
    return f"{channel}-{external_id}"


def workflow_id_for(order_id: str) -> str:
    return f"order-{order_id}"


class Temperature(StrEnum):
    AMBIENT = "ambient"
    CHILLED = "chilled"
    FROZEN = "frozen"


class Product(BaseModel):
    sku: NonEmpty
    name: NonEmpty
    unit_price: Amount
    weight_g: int = Field(gt=0)
    volume_cm3: int = Field(0, ge=0, description="packed size, length x width x height in cm; "
                            "carriers bill the volumetric weight when it exceeds the actual")
    temperature: Temperature = Temperature.AMBIENT
    hazmat: bool = False
    oversize: bool = False
    returnable: bool = Field(True, description="false: perishable or hygiene goods the returns rules refuse")

    @property
    def cold_chain(self) -> bool:
        return self.temperature != Temperature.AMBIENT


class Warehouse(BaseModel):
    code: NonEmpty
    name: NonEmpty
    province: NonEmpty
    city: NonEmpty
    cold_chain: bool = False

    @field_validator("province")
    @classmethod
    def _province(cls, value: str) -> str:
        if not is_known_province(value):
            raise ValueError(f"'{value}' is not a known province")
        return normalise_province(value)


class ZoneRate(BaseModel):
    first_kg: Amount
    additional_kg: Amount
    transit_days: int = Field(gt=0)


Zone = Literal["local", "regional", "national", "remote"]
ServiceLevel = Literal["standard", "express", "cold_chain", "freight"]


class Carrier(BaseModel):
    """A carrier's contract: what it carries, where, at what price and how fast."""

    code: NonEmpty
    name: NonEmpty
    protocol: Literal["sf", "zto", "jdl", "dhl"] = Field(
        "sf", description="the API it speaks: SF open platform, ZTO open API, JD Logistics (JOS), DHL MyDHL")
    services: list[ServiceLevel]
    hazmat: bool = False
    max_weight_g: int = Field(gt=0, default=30_000)
    excluded_provinces: list[str] = []
    cutoff_hour: int = Field(18, ge=0, le=24, description="Beijing time; parcels booked later leave next day")
    rates: dict[Zone, ZoneRate] = Field(description="the standard service's tariff")
    service_rates: dict[ServiceLevel, dict[Zone, ZoneRate]] = Field(
        {}, description="tariffs of the other service levels (express, cold_chain, freight); "
        "a service listed without one is priced on `rates`")

    @field_validator("excluded_provinces")
    @classmethod
    def _normalise(cls, value: list[str]) -> list[str]:
        return [normalise_province(p) for p in value]


class StockLevel(BaseModel):
    sku: NonEmpty
    warehouse: NonEmpty
    on_hand: int = Field(ge=0)
    safety_stock: int = Field(0, ge=0, description="units never promised to orders (damage, display, buffer)")


class Catalogue(BaseModel):
    """The file format of `ordo catalog import`: any section may be left out."""

    products: list[Product] = []
    warehouses: list[Warehouse] = []
    stock: list[StockLevel] = []
    carriers: list[Carrier] = []
