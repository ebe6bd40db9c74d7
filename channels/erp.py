"""ERP sales orders (SAP S/4HANA, Yonyou U8/NC) in Ordo's documented JSON mapping.

The field names are those of SAP's `API_SALES_ORDER_SRV` `A_SalesOrder` entity, which
Yonyou exports can be mapped onto one to one:

| Ordo | ERP field |
|---|---|
| external id | `SalesOrder` (the ERP document number) |
| customer | `SoldToParty`; tier from `CustomerGroup` (01 regular .. 04 platinum) |
| currency | `TransactionCurrency` |
| lines | `to_Item[]`: `Material` (SKU), `RequestedQuantity`, `NetPriceAmount` (unit price) |
| address | `to_Partner[]`, the one with `PartnerFunction` `WE` (ship-to): `FullName`, |
|         | `PhoneNumber`, `Region`, `CityName`, `District`, `StreetName` |
| shipping, discount, total | `FreightAmount`, `DiscountAmount`, `TotalGrossAmount` |

Numbers may be JSON numbers or strings (OData v2 sends decimals as strings).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from channels.base import Intake, PayloadError, build_order, fail, need, parse_json
from domain.errors import FieldError

CHANNEL = "erp"
TIERS = {"01": "regular", "02": "silver", "03": "gold", "04": "platinum"}


def _amount(value: Any, path: str) -> str:
    try:
        return str(Decimal(str(value if value not in (None, "") else "0")))
    except InvalidOperation:
        raise fail(path, f"'{value}' is not a number") from None


def parse(raw: bytes) -> Intake:
    data = parse_json(raw)
    if isinstance(data, dict) and isinstance(data.get("d"), dict):  # OData v2 envelope
        data = data["d"]
    if not isinstance(data, dict):
        raise fail("body", "expected an A_SalesOrder object")
    number = str(need(data, "SalesOrder", "SalesOrder"))
    items = data.get("to_Item")
    if isinstance(items, dict):  # OData v2: {"results": [...]}
        items = items.get("results")
    if not isinstance(items, list) or not items:
        raise fail("to_Item", "required: at least one item")
    lines: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("Material"):
            errors.append(FieldError(field=f"to_Item[{i}].Material", reason="required: the material (SKU)"))
            continue
        try:
            qty = int(Decimal(str(item.get("RequestedQuantity"))))
        except (InvalidOperation, ValueError):
            errors.append(
                FieldError(
                    field=f"to_Item[{i}].RequestedQuantity",
                    reason=f"'{item.get('RequestedQuantity')}' is not a quantity",
                )
            )
            continue
        lines.append(
            {
                "sku": str(item["Material"]),
                "quantity": qty,
                "unit_price": _amount(item.get("NetPriceAmount"), f"to_Item[{i}].NetPriceAmount"),
            }
        )
    if errors:
        raise PayloadError(errors)
    partners = data.get("to_Partner")
    if isinstance(partners, dict):
        partners = partners.get("results")
    ship_to = next(
        (p for p in partners or [] if isinstance(p, dict) and p.get("PartnerFunction") == "WE"), None
    )
    if ship_to is None:
        raise fail("to_Partner", "required: a partner with PartnerFunction WE (ship-to)")
    canonical = {
        "channel": CHANNEL,
        "external_id": number,
        "customer": {
            "id": str(data.get("SoldToParty") or f"erp-{number}"),
            "tier": TIERS.get(str(data.get("CustomerGroup") or "01"), "regular"),
        },
        "lines": lines,
        "shipping_address": {
            "name": ship_to.get("FullName") or "",
            "phone": ship_to.get("PhoneNumber") or "",
            "province": ship_to.get("Region") or "",
            "city": ship_to.get("CityName") or "",
            "district": ship_to.get("District") or "",
            "street": ship_to.get("StreetName") or "",
            "postal_code": ship_to.get("PostalCode") or "",
        },
        "payment": {"method": "card"},
        "currency": data.get("TransactionCurrency") or "CNY",
        "shipping_fee": _amount(data.get("FreightAmount"), "FreightAmount"),
        "discount": _amount(data.get("DiscountAmount"), "DiscountAmount"),
        "total": _amount(need(data, "TotalGrossAmount", "TotalGrossAmount"), "TotalGrossAmount"),
    }
    i = (partners or []).index(ship_to)
    order = build_order(
        canonical,
        {
            "lines": "to_Item",
            "shipping_address.name": f"to_Partner[{i}].FullName",
            "shipping_address.phone": f"to_Partner[{i}].PhoneNumber",
            "shipping_address.province": f"to_Partner[{i}].Region",
            "shipping_address.city": f"to_Partner[{i}].CityName",
            "shipping_address.street": f"to_Partner[{i}].StreetName",
            "total": "TotalGrossAmount",
            "body": "TotalGrossAmount",
            "external_id": "SalesOrder",
            "currency": "TransactionCurrency",
        },
    )
    return Intake(kind="order", channel=CHANNEL, external_id=number, order=order)
