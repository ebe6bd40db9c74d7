"""The rest of a partly shipped order: a valid order whose charge and the first order's add
up to the original total."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.backorders import backorder_for
from domain.messages import Allocation
from domain.model import Order
from domain.money import quantize
from tests.factories import order_payload

PRICES = [Decimal("59.00"), Decimal("79.00"), Decimal("16.90"), Decimal("3999.00")]
SKUS = ["COKE-330-24", "TSHIRT-M", "NOODLE-5PK", "PHONE-X1"]


def charged_for(order: Order, allocations: list[Allocation]) -> Decimal:
    """What the first order charges when it ships part (as OrderWorkflow._authorise does)."""
    goods = sum((order.lines[a.line_no].unit_price * a.quantity for a in allocations), Decimal(0))
    tax = order.tax * goods / order.subtotal()
    return quantize(goods + order.shipping_fee + tax - order.discount)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 9), st.integers(0, 9)), min_size=1, max_size=4),
       st.integers(0, 3000), st.integers(0, 2000))
def test_the_backorder_is_what_did_not_ship_and_the_charges_add_up(
    lines: list[tuple[int, int, int]], tax_fen: int, discount_fen: int,
) -> None:
    prices = {s: p for s, p in zip(SKUS, PRICES, strict=True)}
    chosen = [(SKUS[i], q) for i, q, _ in lines]
    payload = order_payload("bo-1", chosen, shipping="12.00", unit_prices=prices)
    tax, discount = Decimal(tax_fen) / 100, Decimal(discount_fen) / 100
    payload.update(tax=str(tax), discount=str(discount),
                   total=str(Decimal(payload["total"]) + tax - discount))
    order = Order.model_validate(payload)
    allocations = [Allocation(line_no=n, sku=SKUS[i], warehouse="SH-01", quantity=min(r, q))
                   for n, (i, q, r) in enumerate(lines) if min(r, q) > 0]
    rest = backorder_for(order, allocations)
    shipped = {a.line_no: a.quantity for a in allocations}
    missing = [(ln.sku, ln.quantity - shipped.get(n, 0)) for n, ln in enumerate(order.lines)
               if ln.quantity > shipped.get(n, 0)]
    if not missing:
        assert rest is None
        return
    assert rest is not None and rest.order_id == f"{order.order_id}-bo"
    assert [(ln.sku, ln.quantity) for ln in rest.lines] == missing
    assert rest.shipping_fee == 0 and rest.discount == 0
    if allocations:  # one cent either way from rounding the tax share
        assert abs(charged_for(order, allocations) + rest.total - order.total) <= Decimal("0.01")
    else:
        assert rest.total == quantize(order.subtotal() + order.tax)
