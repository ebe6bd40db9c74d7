"""The canonical order rejects bad input with the field and the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.errors import describe
from domain.model import Order
from tests.factories import order_payload


def errors_of(payload: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        Order.model_validate(payload)
    return {e.field: e.reason for e in describe(info.value)}


def test_a_valid_order_has_business_ids_and_normalised_province() -> None:
    order = Order.model_validate(order_payload("A-1", province="浙江省"))
    assert order.order_id == "shopify-A-1" and order.workflow_id == "order-shopify-A-1"
    assert order.shipping_address.province == "浙江"
    assert order.total == Decimal("128.00")


@pytest.mark.parametrize("quantity", [0, -3])
def test_zero_or_negative_quantity_names_the_line(quantity: int) -> None:
    payload = order_payload("A-2")
    payload["lines"][0]["quantity"] = quantity  # type: ignore[index]
    assert errors_of(payload) == {"lines[0].quantity": "Input should be greater than 0"}


def test_a_total_that_does_not_add_up_says_what_it_should_be() -> None:
    payload = order_payload("A-3")
    payload["total"] = "999.00"
    reason = errors_of(payload)["body"]
    assert "total 999.00 does not equal lines 118.00 + shipping_fee 10.00 - discount 0 = 128.00" in reason


def test_missing_address_and_unknown_province_are_named() -> None:
    payload = order_payload("A-4")
    del payload["shipping_address"]
    assert errors_of(payload) == {"shipping_address": "Field required"}
    payload = order_payload("A-5", province="Atlantis")
    assert "not a province" in errors_of(payload)["shipping_address.province"]


def test_external_id_must_be_usable_as_a_workflow_key() -> None:
    payload = order_payload("bad id/with space")
    assert "letters, digits" in errors_of(payload)["external_id"]
