"""Carrier pushes, channel write-backs and refund arithmetic, read from each party's own shapes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from channels.writeback import shopify_fulfillment, taobao_offline_send, target
from domain.messages import ShipmentNotice
from domain.refunds import parcel_value
from domain.tracking import TrackingState, problem_from_text
from domain.wire import kuaidi100, sf, zto
from tests.factories import make_order

PAYLOADS = Path(__file__).parent.parent / "payloads"


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def test_an_sf_route_push_becomes_one_event_per_route_in_ordos_states() -> None:
    events = sf.route_events(load("sf_route_push.json"))
    assert [e.state for e in events] == [
        TrackingState.COLLECTED,
        TrackingState.IN_TRANSIT,
        TrackingState.OUT_FOR_DELIVERY,
        TrackingState.DELIVERED,
    ]
    assert {(e.waybill_no, e.reference) for e in events} == {("SF1234567890123", "shopify-1001-p1")}


def test_a_zto_problem_push_is_read_for_its_kind() -> None:
    got, problem = zto.push_events(load("zto_trace_push.json"))
    assert got.state == TrackingState.COLLECTED and got.reference == "taobao-2001-p1"
    assert problem.state == TrackingState.DAMAGED and problem.code == "PROBLEM"


def test_a_kuaidi100_push_carries_its_latest_state_and_is_verified_by_its_sign() -> None:
    param = load("kuaidi100_push_param.json")
    [event] = kuaidi100.push_events(param)
    assert (event.waybill_no, event.state) == ("JDVA00012345678", TrackingState.OUT_FOR_DELIVERY)
    assert "派送中" in event.remark
    form = kuaidi100.push_form("jd", "JDVA1", "3", [{"context": "已签收", "time": "t"}], "salt")
    assert form["sign"] == kuaidi100.sign(form["param"], "salt") != kuaidi100.sign(form["param"], "other")
    assert kuaidi100.push_events(json.loads(form["param"]))[0].state == TrackingState.DELIVERED


def test_problem_text_names_the_problem_or_waits() -> None:
    assert problem_from_text("快件遗失，正在理赔") == TrackingState.LOST
    assert problem_from_text("收件人拒收") == TrackingState.UNDELIVERABLE
    assert problem_from_text("天气原因延误") == TrackingState.INFO  # a delay is not a verdict
    assert sf.state_of("70", "") == TrackingState.UNDELIVERABLE
    assert kuaidi100.state_of("6") == TrackingState.RETURNED


def test_shopify_and_taobao_hear_of_a_parcel_in_their_own_format() -> None:
    notice = ShipmentNotice(
        channel="shopify",
        external_id="5550001",
        shipment_id="shopify-5550001-p1",
        carrier="sf",
        waybill_no="SF1",
        split=True,
    )
    whole = shopify_fulfillment(notice, [{"id": 987, "status": "open", "line_items": []}])
    assert whole is not None
    body = whole["fulfillment"]
    assert body["line_items_by_fulfillment_order"] == [{"fulfillment_order_id": 987}]  # no line ids known
    assert body["tracking_info"]["company"] == "SF Express" and body["tracking_info"]["number"] == "SF1"
    params = taobao_offline_send(notice.model_copy(update={"channel": "tmall", "carrier": "zto"}))
    assert params == {
        "method": "taobao.logistics.offline.send",
        "tid": "5550001",
        "out_sid": "SF1",
        "company_code": "ZTO",
        "is_split": "1",
    }
    assert (target("tmall"), target("pos"), target("jd")) == ("taobao", None, None)


def test_a_units_refund_carries_its_share_of_discount_and_tax() -> None:
    order = make_order("r1", [("COKE-330-24", 2), ("PHONE-X1", 1)], shipping="10.00")
    order = order.model_copy(
        update={"discount": Decimal("100.00"), "tax": Decimal("50.00"), "total": order.total - 100 + 50}
    )
    share = Decimal("59.00") / order.subtotal()
    assert parcel_value(order, {"COKE-330-24": 1}) == round(Decimal("59.00") - 100 * share + 50 * share, 2)
    assert parcel_value(order, {"COKE-330-24": 1}, percent=50) == round(
        (59 - 100 * share + 50 * share) / 2, 2
    )
    whole = {"COKE-330-24": 2, "PHONE-X1": 1}
    assert parcel_value(order, whole, include_shipping=True) == order.total


@given(
    st.lists(
        st.tuples(st.sampled_from(["COKE-330-24", "PHONE-X1", "RICE-5KG", "TSHIRT-M"]), st.integers(1, 5)),
        min_size=1,
        max_size=4,
        unique_by=lambda t: t[0],
    ),
    st.integers(0, 3000),
    st.data(),
)
def test_refunds_of_the_parts_never_add_up_to_more_than_was_paid(
    lines: list[tuple[str, int]], discount: int, data: st.DataObject
) -> None:
    order = make_order("h", lines, shipping="12.00")
    discount_d = min(Decimal(discount), order.subtotal())
    order = order.model_copy(update={"discount": discount_d, "total": order.total - discount_d})
    parts = [{sku: data.draw(st.integers(0, n))} for sku, n in lines]
    refunded = sum(parcel_value(order, p) for p in parts)
    assert refunded <= order.total - order.shipping_fee + Decimal("0.01") * len(parts)
    if all(list(p.values())[0] == n for p, (_, n) in zip(parts, lines, strict=True)):
        assert abs(refunded - (order.total - order.shipping_fee)) <= Decimal("0.01") * len(parts)


def fo(fid: int, *lines: tuple[int, int, int, int]) -> dict[str, object]:
    """A Shopify FulfillmentOrder: (FO line id, order line id, quantity, fulfillable)."""
    return {"id": fid, "status": "open", "line_items": [
        {"id": i, "fulfillment_order_id": fid, "line_item_id": li, "quantity": q,
         "fulfillable_quantity": left}
        for i, li, q, left in lines]}


def test_each_parcel_of_a_split_shopify_order_fulfils_only_its_own_lines() -> None:
    """Named without lines, Shopify fulfils the whole fulfillment order: the first parcel of a
    split order would close it and the second parcel's tracking would go nowhere."""
    orders = [fo(11, (111, 501, 2, 2)), fo(22, (221, 601, 3, 3), (222, 602, 1, 1))]
    parcel = ShipmentNotice(channel="shopify", external_id="1", shipment_id="p1", carrier="zto",
                            waybill_no="ZT1", lines={"601": 2, "999": 1})
    body = shopify_fulfillment(parcel, orders)
    assert body is not None
    assert body["fulfillment"]["line_items_by_fulfillment_order"] == [
        {"fulfillment_order_id": 22, "fulfillment_order_line_items": [{"id": 221, "quantity": 2}]}]
    # what is left to fulfil caps the units; nothing left of the parcel's lines: nothing to send
    assert shopify_fulfillment(parcel, [fo(22, (221, 601, 3, 1))])["fulfillment"][  # type: ignore[index]
        "line_items_by_fulfillment_order"][0]["fulfillment_order_line_items"] == [{"id": 221, "quantity": 1}]
    assert shopify_fulfillment(parcel, [fo(22, (221, 601, 3, 0), (222, 602, 1, 1))]) is None
