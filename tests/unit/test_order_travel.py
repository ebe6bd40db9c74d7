"""How parcels move their order while they travel: the parcel furthest behind decides, and
parcels not (or no longer) on their way do not count."""

import pytest

from domain.status import OrderStatus, ShipmentStatus, order_status_while_travelling, shown_status

S = ShipmentStatus


@pytest.mark.parametrize(("parcels", "order"), [
    ([], None),
    ([S.PENDING, S.AT_WAREHOUSE], None),
    ([S.WAYBILL_CREATED], OrderStatus.SHIPPED),
    ([S.IN_TRANSIT, S.PENDING], OrderStatus.IN_TRANSIT),
    ([S.OUT_FOR_DELIVERY, S.WAYBILL_CREATED], OrderStatus.SHIPPED),
    ([S.OUT_FOR_DELIVERY, S.IN_TRANSIT, S.DELIVERED], OrderStatus.IN_TRANSIT),
    ([S.OUT_FOR_DELIVERY, S.DELIVERED, S.LOST], OrderStatus.OUT_FOR_DELIVERY),
    ([S.DELIVERED, S.LOST, S.CANCELLED], None),
    (["in_transit", "out_for_delivery"], OrderStatus.IN_TRANSIT),  # as the store reads them
])
def test_the_parcel_furthest_behind_gives_the_order_its_status(
    parcels: list[ShipmentStatus | str], order: OrderStatus | None,
) -> None:
    assert order_status_while_travelling(parcels) == order


@pytest.mark.parametrize(("live", "stored", "shown"), [
    (OrderStatus.SHIPPED, "in_transit", "in_transit"),  # the parcel is ahead of the workflow
    (OrderStatus.SHIPPED, "out_for_delivery", "out_for_delivery"),
    (OrderStatus.DELIVERED, "out_for_delivery", "delivered"),  # the workflow has moved on
    (OrderStatus.AWAITING_OPERATOR, "in_transit", "awaiting_operator"),
    (OrderStatus.FULFILLING, "fulfilling", "fulfilling"),
    (None, "in_transit", "in_transit"),  # Temporal did not answer
    (None, None, "received"),
])
def test_a_person_sees_the_stored_status_while_the_parcels_travel(
    live: OrderStatus | None, stored: str | None, shown: str,
) -> None:
    assert shown_status(live, stored) == shown
