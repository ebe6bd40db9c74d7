"""Till and barcode-scanner sales as CSV batches: Ordo's own format, since POS systems
share no standard. One row per line item; rows with the same `store_id` and
`transaction_id` form one order (external id `<store_id>-<transaction_id>`). UTF-8 with or
without a byte-order mark; quoted fields allowed.

```
transaction_id,store_id,sku,quantity,unit_price,name,phone,province,city,district,street,customer_id,customer_tier,payment_method,shipping_fee,sold_at
T0001,SH-JA-01,COKE-330-24,2,59.00,张三,13812345678,上海,上海市,静安区,南京西路1号,,gold,wechat,0,2026-11-11T10:00:00+08:00
```

Required: transaction_id, store_id, sku, quantity, unit_price, name, phone, province,
city, street. A transaction with any bad row is refused (each bad row reported with its
row number and column); the other transactions are accepted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from channels.base import Intake, PayloadError, build_order
from domain.errors import FieldError

CHANNEL = "pos"
REQUIRED = (
    "transaction_id",
    "store_id",
    "sku",
    "quantity",
    "unit_price",
    "name",
    "phone",
    "province",
    "city",
    "street",
)
MAX_ROWS = 50_000


@dataclass
class Batch:
    orders: list[tuple[list[int], Intake]] = field(default_factory=list)  # (row numbers, order)
    errors: list[FieldError] = field(default_factory=list)  # field = "row 3: quantity"
    rejected_transactions: list[str] = field(default_factory=list)


def parse_batch(raw: bytes) -> Batch:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError([FieldError(field="body", reason=f"not UTF-8 text (byte {exc.start})")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise PayloadError(
            [
                FieldError(
                    field="header",
                    reason=f"missing column(s) {', '.join(missing)}; "
                    f"the header must name {', '.join(REQUIRED)}",
                )
            ]
        )
    groups: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = {}
    batch = Batch()
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        if number > MAX_ROWS + 1:
            raise PayloadError(
                [FieldError(field="body", reason=f"more than {MAX_ROWS} rows; split the file")]
            )
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        key = (row.get("store_id", ""), row.get("transaction_id", ""))
        groups.setdefault(key, []).append((number, row))
    for (store, txn), rows in groups.items():
        problems = [
            FieldError(field=f"row {n}: {c}", reason="required but empty")
            for n, r in rows
            for c in REQUIRED
            if not r.get(c)
        ]
        lines: list[dict[str, Any]] = []
        for n, r in rows:
            try:
                lines.append(
                    {
                        "sku": r["sku"],
                        "quantity": int(r["quantity"]),
                        "unit_price": str(Decimal(r["unit_price"])),
                    }
                )
            except (ValueError, InvalidOperation, KeyError):
                problems.append(
                    FieldError(
                        field=f"row {n}: quantity/unit_price",
                        reason=f"'{r.get('quantity')}' x '{r.get('unit_price')}' is not "
                        "a whole quantity and an amount",
                    )
                )
        first = rows[0][1]
        try:
            shipping = Decimal(first.get("shipping_fee") or "0")
        except InvalidOperation:
            problems.append(FieldError(field=f"row {rows[0][0]}: shipping_fee", reason="not an amount"))
            shipping = Decimal("0")
        if not problems:
            subtotal = sum((Decimal(ln["unit_price"]) * int(ln["quantity"]) for ln in lines), Decimal("0"))
            try:
                order = build_order(
                    {
                        "channel": CHANNEL,
                        "external_id": f"{store}-{txn}",
                        "customer": {
                            "id": first.get("customer_id") or f"pos-{store}-{txn}",
                            "tier": first.get("customer_tier") or "regular",
                        },
                        "lines": lines,
                        "shipping_address": {
                            k: first.get(k, "")
                            for k in ("name", "phone", "province", "city", "district", "street")
                        },
                        "payment": {"method": first.get("payment_method") or "card"},
                        "shipping_fee": str(shipping),
                        "total": str(subtotal + shipping),
                        "placed_at": first.get("sold_at") or None,
                    }
                )
                batch.orders.append(
                    (
                        [n for n, _ in rows],
                        Intake(kind="order", channel=CHANNEL, external_id=order.external_id, order=order),
                    )
                )
                continue
            except PayloadError as exc:
                problems = [
                    FieldError(field=f"row {_row_of(e.field, rows)}: {_column(e.field)}", reason=e.reason)
                    for e in exc.errors
                ]
        batch.errors.extend(problems)
        batch.rejected_transactions.append(f"{store}-{txn}")
    return batch


def _row_of(path: str, rows: list[tuple[int, dict[str, str]]]) -> int:
    if path.startswith("lines[") and "]" in path:
        index = int(path[6 : path.index("]")])
        if index < len(rows):
            return rows[index][0]
    return rows[0][0]


def _column(path: str) -> str:
    tail = path.rsplit(".", 1)[-1]
    return {
        "unit_price": "unit_price",
        "quantity": "quantity",
        "sku": "sku",
        "tier": "customer_tier",
        "method": "payment_method",
        "external_id": "store_id/transaction_id",
    }.get(tail, tail)
