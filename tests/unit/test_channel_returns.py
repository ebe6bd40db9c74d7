"""Return requests from the channels, on payloads in the platforms' published shapes:
Shopify's `returns/request` webhook (the Return: `order.id`, `return_line_items[]` naming the
order line through `fulfillment_line_item.line_item.id`, `return_reason`) and Taobao's
`taobao.refund.get` (`refund_id`, `tid`, `oid`, `num`, `has_good_return`, `reason`), both
against the order fixtures the order adapters read, so the line ids are the same."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from channels import returns, shopify, taobao
from channels.base import PayloadError
from domain.model import Order
from tests.unit.test_channels import fields, load, raw


def shopify_order() -> Order:
    intake = shopify.parse(raw(load("shopify_orders_create.json")))
    assert intake.order is not None
    return intake.order


def taobao_order() -> Order:
    trade = load("taobao_trade_fullinfo.json")
    intake = taobao.parse(raw(trade))
    assert intake.order is not None
    return intake.order


def test_orders_keep_the_channels_line_ids() -> None:
    assert [(ln.sku, ln.channel_line_id) for ln in shopify_order().lines] == [
        ("COKE-330-24", "14880212123001"), ("TSHIRT-M", "14880212123002")]
    assert [(ln.sku, ln.channel_line_id) for ln in taobao_order().lines] == [
        ("SNEAKER-42", "3615284739202058842"), ("TSHIRT-M", "3615284739203058842")]


def test_a_shopify_return_names_the_order_line_by_id_and_maps_the_reason() -> None:
    asked = returns.read_shopify(raw(load("shopify_returns_request.json")))
    assert asked.order_id == "shopify-5794830778425"
    assert asked.request_id == "shopify-return-7421886521"  # a redelivery is the same return
    req = returns.to_request(asked, shopify_order())
    assert [(ln.sku, ln.quantity, ln.reason, ln.condition) for ln in req.lines] == [
        ("TSHIRT-M", 1, "size_fit", "unopened")]
    assert req.note == "runs a size small"


def test_two_shopify_lines_of_one_sku_become_one_return_line() -> None:
    data = load("shopify_returns_request.json")
    data["return_line_items"].append(copy.deepcopy(data["return_line_items"][0]))
    data["return_line_items"][1]["return_reason"] = "defective"
    req = returns.to_request(returns.read_shopify(raw(data)), shopify_order())
    assert [(ln.sku, ln.quantity, ln.reason) for ln in req.lines] == [("TSHIRT-M", 2, "size_fit")]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("order"), "order.id"),
        (lambda d: d.update(return_line_items=[]), "return_line_items"),
        (lambda d: d["return_line_items"][0]["fulfillment_line_item"].pop("line_item"),
         "return_line_items[0].fulfillment_line_item.line_item.id"),
        (lambda d: d["return_line_items"][0].update(quantity=0), "return_line_items[0].quantity"),
        (lambda d: d["return_line_items"][0].update(return_reason="bored"),
         "return_line_items[0].return_reason"),
    ],
)
def test_a_bad_shopify_return_names_shopifys_field(mutate: Any, field: str) -> None:
    data = load("shopify_returns_request.json")
    mutate(data)
    with pytest.raises(PayloadError) as exc:
        returns.read_shopify(raw(data))
    assert field in fields(exc)


def test_a_shopify_line_the_order_does_not_have_is_named() -> None:
    data = load("shopify_returns_request.json")
    data["return_line_items"][0]["fulfillment_line_item"]["line_item"]["id"] = 999
    with pytest.raises(PayloadError) as exc:
        returns.to_request(returns.read_shopify(raw(data)), shopify_order())
    reason = fields(exc)["return_line_items[0].fulfillment_line_item.line_item.id"]
    assert "999 is not a line of order shopify-5794830778425" in reason and "14880212123002" in reason


def test_a_taobao_refund_with_goods_coming_back_is_a_return_of_its_line() -> None:
    asked = returns.read_taobao(raw(load("taobao_refund_get.json")))
    assert asked.order_id == "taobao-3615284739201058842"  # the id beyond 2^53, exact
    assert asked.request_id == "taobao-refund-187734102284058842"
    req = returns.to_request(asked, taobao_order())
    assert [(ln.sku, ln.quantity, ln.reason) for ln in req.lines] == [("SNEAKER-42", 1, "defective")]
    assert req.note == "质量问题; 鞋底开胶"
    tmall = returns.read_taobao(raw(load("taobao_refund_get.json")), "tmall")
    assert tmall.order_id == "tmall-3615284739201058842"


@pytest.mark.parametrize(
    ("text", "reason"),
    [("收到商品破损", "damaged_in_transit"), ("卖家发错货", "wrong_item"),
     ("大小/尺寸与商品描述不符", "not_as_described"), ("尺码拍错", "size_fit"),
     ("七天无理由退换货", "changed_mind"), ("", "changed_mind")],
)
def test_taobao_reasons_from_the_buyers_menu(text: str, reason: str) -> None:
    assert returns.taobao_reason(text) == reason


def test_a_taobao_refund_without_a_return_or_with_a_bad_count_is_refused_by_field() -> None:
    data = load("taobao_refund_get.json")
    data["refund_get_response"]["refund"]["has_good_return"] = False
    with pytest.raises(PayloadError) as exc:
        returns.read_taobao(raw(data))
    assert "仅退款" in fields(exc)["refund.has_good_return"]
    data = load("taobao_refund_get.json")
    data["refund_get_response"]["refund"]["num"] = "two"
    with pytest.raises(PayloadError) as exc:
        returns.read_taobao(raw(data))
    assert "refund.num" in fields(exc)
    data = load("taobao_refund_get.json")
    data["refund_get_response"]["refund"]["oid"] = 1
    with pytest.raises(PayloadError) as exc:
        returns.to_request(returns.read_taobao(raw(data)), taobao_order())
    assert "1 is not a line of order taobao-3615284739201058842" in fields(exc)["refund.oid"]
