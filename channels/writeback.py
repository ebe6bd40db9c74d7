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

from domain.messages import ShipmentNotice

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




def shopify_fulfillment(n: ShipmentNotice, fulfillment_orders: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A fulfillment naming the fulfillment order lines this parcel carries: Shopify fulfils
    every line of a fulfillment order named without lines, which would mark a split order
    shipped on its first parcel and leave the second parcel's tracking nowhere. With no
    channel line ids (an order from before they were kept) or no lines listed, the first open
    fulfillment order whole. None: everything this parcel carries is fulfilled already."""
    group: dict[str, Any] | None = None
    for fo in fulfillment_orders:
        if not n.lines or not fo.get("line_items"):
            group = group or {"fulfillment_order_id": fo["id"]}
            continue
        listed = [li for li in fo["line_items"] if str(li.get("line_item_id")) in n.lines]
        open_units = {li["id"]: int(li.get("fulfillable_quantity") or 0) for li in listed}
        picked = [{"id": li["id"], "quantity": min(n.lines[str(li["line_item_id"])], open_units[li["id"]])}
                  for li in listed if open_units[li["id"]] > 0]
        if picked:
            group = {"fulfillment_order_id": fo["id"], "fulfillment_order_line_items": picked}
            break
    if group is None:
        return None
    url = TRACKING_URL.get(n.carrier, "").format(n=n.waybill_no)
    return {
        "fulfillment": {
            "line_items_by_fulfillment_order": [group],
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
