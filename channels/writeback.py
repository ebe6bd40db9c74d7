"""What each channel expects to hear when a parcel leaves: its own payload, built here.

- Shopify: a fulfillment (`POST /admin/api/2024-01/fulfillments.json`) against the order's
  fulfillment order, with `tracking_info{number, company, url}` (Shopify recognises the
  carrier by the company name it knows).
- Taobao/Tmall: `taobao.logistics.offline.send` with `tid`, `out_sid` (the waybill) and
  `company_code`; a parcel of a split order sends `is_split=1`.
- POS, ERP and text orders have no one to tell; JD's `jingdong.pop.order.shipment` is not
  written yet - `None` for all of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

SHOPIFY_COMPANY = {
    "sf": "SF Express",
    "zto": "ZTO Express",
    "jd": "JD Logistics",
    "dhl": "DHL Express",
    "ems": "China Post",
}
TAOBAO_COMPANY = {"sf": "SF", "zto": "ZTO", "jd": "JD", "dhl": "DHL", "ems": "EMS"}
TRACKING_URL = {
    "sf": "https://www.sf-express.com/chn/sc/waybill/waybill-detail/{n}",
    "dhl": "https://www.dhl.com/cn-en/home/tracking.html?tracking-id={n}",
}


class ShipmentNotice(BaseModel):
    channel: str
    external_id: str
    shipment_id: str
    carrier: str
    waybill_no: str
    split: bool = False  # one of several parcels of the order


def shopify_fulfillment(n: ShipmentNotice, fulfillment_order_id: int) -> dict[str, Any]:
    url = TRACKING_URL.get(n.carrier, "").format(n=n.waybill_no)
    return {
        "fulfillment": {
            "line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order_id}],
            "tracking_info": {
                "number": n.waybill_no,
                "company": SHOPIFY_COMPANY.get(n.carrier, n.carrier),
                **({"url": url} if url else {}),
            },
            "notify_customer": True,
        }
    }


def taobao_offline_send(n: ShipmentNotice) -> dict[str, str]:
    return {
        "method": "taobao.logistics.offline.send",
        "tid": n.external_id,
        "out_sid": n.waybill_no,
        "company_code": TAOBAO_COMPANY.get(n.carrier, n.carrier.upper()),
        **({"is_split": "1"} if n.split else {}),
    }


def target(channel: str) -> str | None:
    return {"shopify": "shopify", "taobao": "taobao", "tmall": "taobao"}.get(channel)
