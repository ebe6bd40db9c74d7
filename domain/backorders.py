"""The rest of a partly shipped order, as an order of its own (a backorder).

When an order ships what is available, the units left short become a linked order for the
same customer and address: no shipping fee and no discount (the first order used them),
its share of the tax, priced at the original unit prices. It then waits for stock like any
order (restock signals, the exception rules).
"""

from __future__ import annotations

from decimal import Decimal

from domain.messages import Allocation
from domain.model import Order
from domain.money import quantize


def backorder_for(order: Order, allocations: list[Allocation]) -> Order | None:
    reserved: dict[int, int] = {}
    for a in allocations:
        reserved[a.line_no] = reserved.get(a.line_no, 0) + a.quantity
    rest = [ln.model_copy(update={"quantity": ln.quantity - reserved.get(i, 0)})
            for i, ln in enumerate(order.lines) if ln.quantity > reserved.get(i, 0)]
    if not rest:
        return None
    goods = quantize(sum((ln.unit_price * ln.quantity for ln in rest), Decimal(0)))
    tax = quantize(order.tax * goods / order.subtotal()) if order.subtotal() else Decimal(0)
    return Order.model_validate({  # validated: the total must add up like any order's
        **order.model_dump(),
        "external_id": f"{order.external_id}-bo",
        "lines": [ln.model_dump() for ln in rest],
        "shipping_fee": Decimal(0),
        "discount": Decimal(0),
        "tax": tax,
        "total": quantize(goods + tax),
        "review": "",
    })
