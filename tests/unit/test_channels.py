"""Each channel adapter on payloads written from the platform's documented format
(`../shared/notes/channels.md`), including their awkward cases."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from channels import erp, jd, pos_csv, shopify, taobao, text
from channels.base import PayloadError
from cli.commands.catalogue import read_catalogue
from config.settings import PROJECT_ROOT

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
PRODUCTS = read_catalogue(PROJECT_ROOT / "config" / "demo" / "catalog.yaml").products


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def raw(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def fields(exc: pytest.ExceptionInfo[PayloadError]) -> dict[str, str]:
    return {e.field: e.reason for e in exc.value.errors}


# ---- Shopify -------------------------------------------------------------------------


def test_shopify_order_maps_money_discounts_shipping_tier_and_pinyin_province() -> None:
    item = shopify.parse(raw(load("shopify_orders_create.json")))
    order = item.order
    assert order is not None and item.kind == "order"
    assert order.order_id == "shopify-5794830778425"  # the 64-bit id, not the display name
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("COKE-330-24", 2, Decimal("59.00")),
        ("TSHIRT-M", 1, Decimal("100.00")),
    ]
    assert (order.shipping_fee, order.discount, order.tax, order.total) == (
        Decimal("12.00"),
        Decimal("10.00"),
        Decimal("0.00"),
        Decimal("220.00"),
    )
    assert order.customer.tier == "gold" and order.customer.id == "7321123456789"
    addr = order.shipping_address
    assert (addr.province, addr.city, addr.street, addr.postal_code) == (
        "浙江",
        "杭州市",
        "文三路90号 西湖区",
        "310012",
    )
    assert order.payment.method == "alipay" and order.review == ""


def test_shopify_tax_multi_currency_and_refund_in_flight() -> None:
    data = load("shopify_orders_create.json")
    data.update(currency="USD", total_tax="8.80", total_price="228.80", financial_status="partially_refunded")
    order = shopify.parse(raw(data)).order
    assert order is not None
    assert (order.currency, order.tax, order.total) == ("USD", Decimal("8.80"), Decimal("228.80"))
    assert "refund is in flight" in order.review
    data.update(taxes_included=True, total_price="220.00")  # tax already inside the prices
    assert shopify.parse(raw(data)).order.tax == Decimal("0")  # type: ignore[union-attr]


def test_shopify_errors_name_shopify_fields() -> None:
    data = load("shopify_orders_create.json")
    data["line_items"][1]["sku"] = ""
    with pytest.raises(PayloadError) as exc:
        shopify.parse(raw(data))
    assert fields(exc) == {
        "line_items[1].sku": "empty: give the variant a SKU in Shopify so Ordo can find it"
    }
    data = load("shopify_orders_create.json")
    data["total_price"] = "999.00"
    with pytest.raises(PayloadError) as exc:
        shopify.parse(raw(data))
    assert list(fields(exc)) == ["total_price"] and "does not equal" in fields(exc)["total_price"]
    data = load("shopify_orders_create.json")
    data["shipping_address"]["province"] = "Atlantis"
    with pytest.raises(PayloadError) as exc:
        shopify.parse(raw(data))
    assert "shipping_address.province" in fields(exc)


def test_shopify_cancellation_and_signature() -> None:
    data = load("shopify_orders_create.json")
    data.update(cancelled_at="2026-11-11T01:00:00+08:00", cancel_reason="customer")
    item = shopify.parse(raw(data), "orders/cancelled")
    assert (item.kind, item.order_id, item.reason) == (
        "cancel",
        "shopify-5794830778425",
        "cancelled on Shopify (customer)",
    )
    body = raw(load("shopify_orders_create.json"))
    assert shopify.verify(body, shopify.sign(body, "s3cret"), "s3cret")
    assert not shopify.verify(body + b" ", shopify.sign(body, "s3cret"), "s3cret")
    assert not shopify.verify(body, None, "s3cret")


# ---- Taobao / Tmall ---------------------------------------------------------------------


def test_taobao_trade_keeps_the_big_id_and_derives_the_discount() -> None:
    item = taobao.parse(raw(load("taobao_trade_fullinfo.json")), "tmall")
    order = item.order
    assert order is not None
    assert order.order_id == "tmall-3615284739201058842"  # beyond 2^53, kept exactly
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("SNEAKER-42", 1), ("TSHIRT-M", 1)]
    assert (order.subtotal(), order.discount, order.total) == (
        Decimal("297.00"),
        Decimal("20.00"),
        Decimal("277.00"),
    )
    addr = order.shipping_address
    assert (addr.province, addr.city, addr.district, addr.name) == ("广东", "深圳市", "南山区", "王**")
    assert addr.street == "粤海街道科技园南路10号**" and order.placed_at is not None
    assert order.placed_at.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]


def test_taobao_refunds_county_level_city_and_closed_trades() -> None:
    data = load("taobao_trade_fullinfo.json")
    trade = data["trade_fullinfo_get_response"]["trade"]
    trade["orders"]["order"][1]["refund_status"] = "SUCCESS"  # refunded line: left out
    trade["orders"]["order"][0]["refund_status"] = "WAIT_SELLER_AGREE"  # being decided: review
    trade.update(receiver_state="河南省", receiver_city="", receiver_district="济源市")
    order = taobao.parse(raw(data)).order
    assert order is not None
    assert [ln.sku for ln in order.lines] == ["SNEAKER-42"] and order.total == Decimal("184.00")
    assert order.shipping_address.city == "济源市" and "refund WAIT_SELLER_AGREE" in order.review
    trade["status"] = "TRADE_CLOSED"
    assert taobao.parse(raw(data)).kind == "cancel"
    trade["status"] = "WAIT_BUYER_PAY"
    with pytest.raises(PayloadError) as exc:
        taobao.parse(raw(data))
    assert "not a paid trade" in fields(exc)["trade.status"]


def test_taobao_missing_merchant_sku_names_the_line() -> None:
    data = load("taobao_trade_fullinfo.json")
    line = data["trade_fullinfo_get_response"]["trade"]["orders"]["order"][0]
    line["outer_sku_id"] = line["outer_iid"] = ""
    with pytest.raises(PayloadError) as exc:
        taobao.parse(raw(data))
    assert list(fields(exc)) == ["trade.orders.order[0].outer_sku_id"]


# ---- JD, ERP --------------------------------------------------------------------------


def test_jd_order_strings_everywhere_balance_and_coupon() -> None:
    order = jd.parse(raw(load("jd_pop_order_get.json"))).order
    assert order is not None and order.order_id == "jd-289345671234"
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [("TV-65", 1, Decimal("4299.00"))]
    assert (order.discount, order.total) == (Decimal("100.00"), Decimal("4199.00"))  # payment + balance used
    assert (order.shipping_address.province, order.shipping_address.district) == ("北京", "朝阳区")
    assert order.payment.method == "card"


def test_jd_cancelled_cod_and_error_responses() -> None:
    data = load("jd_pop_order_get.json")
    info = data["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]
    info["payType"] = "1"
    assert jd.parse(raw(data)).order.payment.method == "cod"  # type: ignore[union-attr]
    info["itemInfoList"][0]["itemTotal"] = "one"
    with pytest.raises(PayloadError) as exc:
        jd.parse(raw(data))
    assert fields(exc) == {"orderInfo.itemInfoList[0].itemTotal": "'one' is not a whole number"}
    info["orderState"] = "TRADE_CANCELED"
    assert jd.parse(raw(data)).kind == "cancel"
    with pytest.raises(PayloadError) as exc:
        jd.parse(raw({"error_response": {"code": "19", "zh_desc": "token过期", "en_desc": "token expired"}}))
    assert "token expired" in fields(exc)["error_response"]


def test_erp_sales_order_odata_envelope_and_ship_to_partner() -> None:
    order = erp.parse(raw(load("erp_sales_order.json"))).order
    assert order is not None and order.order_id == "erp-4500012345"
    assert order.customer.tier == "gold" and order.total == Decimal("2100.00")
    assert order.shipping_address.name == "陈经理"  # the WE partner, not the sold-to
    data = load("erp_sales_order.json")
    data["d"]["to_Partner"]["results"][1]["Region"] = "Gondor"
    with pytest.raises(PayloadError) as exc:
        erp.parse(raw(data))
    assert "to_Partner[1].Region" in fields(exc)


# ---- POS CSV --------------------------------------------------------------------------


def test_pos_batch_accepts_good_transactions_and_reports_bad_rows() -> None:
    batch = pos_csv.parse_batch((PAYLOADS / "pos_batch.csv").read_bytes())
    accepted = {item.order_id: rows for rows, item in batch.orders}
    assert accepted == {"pos-SH-JA-01-T0001": [2, 3], "pos-SH-JA-01-T0003": [5]}
    t1 = next(item.order for _, item in batch.orders if item.external_id == "SH-JA-01-T0001")
    assert (
        t1 is not None and t1.total == Decimal("207.00") and t1.shipping_address.street == "南京西路1号, 3楼"
    )
    assert batch.rejected_transactions == ["SH-JA-01-T0002", "SH-JA-01-T0004"]
    assert {(e.field, e.reason) for e in batch.errors} >= {
        ("row 4: quantity/unit_price", "'zero' x '79.00' is not a whole quantity and an amount"),
        ("row 6: name", "required but empty"),
        ("row 6: street", "required but empty"),
    }


def test_pos_batch_without_the_required_header() -> None:
    with pytest.raises(PayloadError) as exc:
        pos_csv.parse_batch(b"txn,sku\n1,COKE-330-24\n")
    assert "missing column(s) transaction_id, store_id" in fields(exc)["header"]


# ---- free text ------------------------------------------------------------------------


def test_chinese_message_becomes_an_order_with_a_resolved_address() -> None:
    item = text.parse(
        "我要3箱可口可乐330ml，送到上海市浦东新区张江路88号，电话13812345678".encode(), PRODUCTS
    )
    order = item.order
    assert order is not None
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("COKE-330-24", 3)]
    addr = order.shipping_address
    assert (addr.province, addr.city, addr.district, addr.street, addr.phone) == (
        "上海",
        "上海市",
        "浦东新区",
        "张江路88号",
        "13812345678",
    )
    assert order.review == "" and order.total == Decimal("177.00")
    again = text.parse(
        "我要3箱可口可乐330ml，送到上海市浦东新区张江路88号，电话13812345678".encode(), PRODUCTS
    )
    assert again.external_id == item.external_id  # no message id: the content hash dedupes


def test_english_message_several_products_and_a_name() -> None:
    body = {
        "message": "Please send 2 x COKE-330-24 and 1 shampoo, deliver to 广东省深圳市南山区科技园南路10号, "
        "name: Wang Wu, phone 13700002222",
        "message_id": "wx-778899",
    }
    order = text.parse(raw(body), PRODUCTS).order
    assert order is not None and order.external_id == "wx-778899"
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("COKE-330-24", 2), ("SHAMPOO-750", 1)]
    assert (order.shipping_address.city, order.shipping_address.name) == ("深圳市", "Wang Wu")


def test_a_loose_match_is_flagged_with_its_candidates_and_nonsense_is_refused() -> None:
    order = text.parse("要2瓶水，送到四川成都武侯区天府大道500号，电话13812345678".encode(), PRODUCTS).order
    assert order is not None and order.review.startswith("'水' -> ")
    assert "candidates:" in order.review and "SHAMPOO-750" in order.review
    with pytest.raises(PayloadError) as exc:
        text.parse("你好，在吗？".encode(), PRODUCTS)
    reasons = " | ".join(e.reason for e in exc.value.errors)
    assert "no mobile number" in reasons and "no delivery address" in reasons


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("line_items"),
        lambda d: d.update(line_items="nope"),
        lambda d: d.update(total_price="abc"),
        lambda d: d["line_items"][0].update(quantity=-1),
        lambda d: d.update(shipping_address=None),
    ],
)
def test_shopify_malformed_variants_are_payload_errors_not_crashes(mutate: Any) -> None:
    data = copy.deepcopy(load("shopify_orders_create.json"))
    mutate(data)
    with pytest.raises(PayloadError):
        shopify.parse(raw(data))


def test_shopify_orders_updated_is_an_address_change_for_the_running_order() -> None:
    data = load("shopify_orders_create.json")
    data["shipping_address"]["address1"] = "文一西路969号"
    item = shopify.parse(raw(data), "orders/updated")
    assert item.kind == "address" and item.order is not None
    assert item.order.shipping_address.street.startswith("文一西路969号")
