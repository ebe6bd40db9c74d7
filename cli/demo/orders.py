"""Demo orders that look like a day's mix: many channels, tiers and provinces, and a few
that hit the exception rules (declined payments, undeliverable addresses, VIPs, a fraud
review, orders not paid yet, a parcel the carrier damages and one it loses)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from domain.model import Product

CHANNELS = ["shopify", "tmall", "taobao", "jd", "pos", "erp", "wechat"]
TIERS = ["regular"] * 6 + ["silver"] * 2 + ["gold", "platinum"]
DESTINATIONS = [
    ("上海", "上海市", "浦东新区", "张江路88号"), ("浙江", "杭州市", "西湖区", "文三路90号"),
    ("江苏", "南京市", "鼓楼区", "中山路1号"), ("广东", "深圳市", "南山区", "科技园南路10号"),
    ("北京", "北京市", "朝阳区", "建国路100号"), ("四川", "成都市", "武侯区", "天府大道500号"),
    ("湖北", "武汉市", "洪山区", "珞喻路129号"), ("新疆", "乌鲁木齐市", "天山区", "解放北路8号"),
    ("黑龙江", "哈尔滨市", "南岗区", "西大直街92号"), ("山东", "青岛市", "市南区", "香港中路6号"),
]


def demo_orders(products: list[Product], count: int, run_tag: str, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    ambient = [p for p in products if not p.oversize]
    phone = next((p for p in products if p.sku == "PHONE-X1"), None)
    orders = []
    for i in range(count):
        province, city, district, street = rng.choice(DESTINATIONS)
        chosen = rng.sample(ambient, k=rng.choice([1, 1, 2, 2, 3]))
        if i % 17 == 5:
            chosen.append(rng.choice([p for p in products if p.oversize]))
        quantities = [(p, rng.randint(1, 3)) for p in chosen]
        if i % 23 == 17 and phone is not None:  # six phones: the priority rules flag a fraud review
            quantities = [(phone, 6)]
        lines = [{"sku": p.sku, "quantity": q, "unit_price": str(p.unit_price)} for p, q in quantities]
        shipping = Decimal("0.00") if i % 3 else Decimal("12.00")
        total = sum((p.unit_price * q for p, q in quantities), Decimal(0)) + shipping
        payer = "decline-demo" if i % 13 == 7 else ""
        if i % 19 == 11:
            street = "UNDELIVERABLE " + street
        elif i % 29 == 13:  # the carrier reports the parcel damaged: the rules reship or refund it
            street = "DAMAGED " + street
        elif i % 31 == 20:  # the carrier reports the parcel lost: the rules send it again
            street = "MISSING " + street
        orders.append({
            "channel": CHANNELS[i % len(CHANNELS)], "external_id": f"{run_tag}-{i:05d}",
            "customer": {"id": f"cust-{rng.randint(1, 5000):05d}", "tier": rng.choice(TIERS)},
            "lines": lines,
            "shipping_address": {"name": "顾客" + str(i), "phone": f"138{rng.randint(0, 99999999):08d}",
                                 "province": province, "city": city, "district": district,
                                 "street": street},
            "payment": {"method": "alipay", "payer_id": payer,
                        "status": "awaiting" if i % 19 == 3 else "paid"},  # paid by the demo later
            "shipping_fee": str(shipping), "total": str(total),
        })
    return orders
