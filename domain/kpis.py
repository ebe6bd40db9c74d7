"""The dashboard's figures: what each one means, in the words a manager reads (English and
Simplified Chinese), and the filters that apply to it. The numbers come from
`store/analytics.py`; the definitions live here so the page, the CSV and the README say the
same thing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DashboardQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date_from: date
    date_to: date
    channel: str | None = None
    warehouse: str | None = None
    tier: str | None = None
    slow_days: int = Field(30, ge=1, le=365,
                           description="a SKU with stock and no sale in this many days is slow")

    @model_validator(mode="after")
    def _range(self) -> DashboardQuery:
        if self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        if (self.date_to - self.date_from).days > 366:
            raise ValueError("a dashboard range is at most a year; export the orders for longer")
        return self

    @classmethod
    def last_days(cls, today: date, days: int = 30, **filters: Any) -> DashboardQuery:
        return cls(date_from=today - timedelta(days=days - 1), date_to=today, **filters)


class Kpi(BaseModel):
    id: str
    title: dict[str, str]
    definition: dict[str, str]
    columns: list[str]
    chart: str  # bars | lines | none
    filters: list[str]  # which of channel, warehouse, tier apply


def _k(kpi_id: str, en: str, zh: str, den: str, dzh: str, columns: list[str], chart: str,
       filters: tuple[str, ...] = ("channel", "warehouse", "tier")) -> Kpi:
    return Kpi(id=kpi_id, title={"en": en, "zh": zh}, definition={"en": den, "zh": dzh}, columns=columns,
               chart=chart, filters=list(filters))


KPIS: dict[str, Kpi] = {k.id: k for k in (
    _k("orders_per_day", "Orders per day by channel", "每日订单量（按渠道）",
       "Orders taken each UTC day, by the day Ordo received them, per channel.",
       "按 Ordo 接单日（UTC）统计的每日订单数，分渠道。", ["day", "channel", "orders"], "bars"),
    _k("processing_time", "Processing time, intake to shipped", "处理时长（接单至发货）",
       "For orders received that day and shipped since: hours from intake to the first parcel's waybill; "
       "p50 and p90 as percentile_cont (linear interpolation).",
       "当日接单且已发货的订单，从接单到首个包裹出运单的小时数；p50 与 p90（线性插值百分位）。",
       ["day", "orders", "p50_hours", "p90_hours"], "lines"),
    _k("on_time_ship", "On-time ship rate", "准时发货率",
       "Orders with a ship-by deadline, not cancelled, that have shipped or whose deadline has passed: "
       "the share shipped on or before the deadline, by day received.",
       "有发货时限、未取消、且已发货或已过时限的订单中，在时限内发货的比例（按接单日）。",
       ["day", "eligible", "on_time", "rate"], "lines"),
    _k("on_time_delivery", "On-time delivery by carrier", "承运商准时送达率",
       "Parcels delivered, of orders received in the range: the share delivered on or before the carrier's "
       "promise at booking, and the average fee the carrier charged per parcel.",
       "所选期间订单中已签收的包裹：在承运商下单时承诺时间内送达的比例，以及每包裹平均运费。",
       ["carrier", "delivered", "on_time", "rate", "average_fee"], "bars"),
    _k("fill_rate", "Fill rate", "订单满足率",
       "Units in parcels handed to a carrier (waybill created or later, not cancelled) divided by units "
       "ordered, for orders received in the range.",
       "所选期间订单中，已交承运商（已出运单或之后、未取消）的包裹件数 ÷ 订购件数。",
       ["units_ordered", "units_shipped", "rate"], "none"),
    _k("exceptions", "Exceptions by type", "异常统计（按类型）",
       "Each time an order of the range was held or sent to an operator, by exception type; resolved when "
       "it next moved on; the median hours to resolution of those resolved.",
       "所选期间订单每次被挂起或转人工，按异常类型统计；下一次状态变化即为解决；已解决者的解决时长中位数（小时）。",
       ["exception_type", "count", "resolved", "median_hours"], "bars"),
    _k("cancel_refund", "Cancellation and refund rates", "取消率与退款率",
       "Of orders received in the range: the share cancelled, and the share with a return refunded.",
       "所选期间订单中已取消的比例，以及有退货已退款的比例。",
       ["orders", "cancelled", "cancel_rate", "refunded", "refund_rate"], "none"),
    _k("top_sellers", "Top sellers", "畅销商品",
       "SKUs by units ordered in the range (the daily SKU roll-up), with revenue at the order's unit price; "
       "the channel filter applies, warehouse and tier do not.",
       "按所选期间订购件数排序的 SKU（每日 SKU 汇总），含按订单单价计算的销售额；仅渠道筛选适用。",
       ["sku", "units", "revenue"], "bars", ("channel",)),
    _k("slow_movers", "Slow movers", "滞销预警",
       "Stock on hand at a warehouse for a SKU that has had no order in any channel for the last N days "
       "(to the range's end), or never.",
       "截至所选期间末，最近 N 天在所有渠道均无订单、但仓库仍有库存的 SKU。",
       ["sku", "warehouse", "on_hand", "last_sold"], "none", ("warehouse",)),
    _k("customer_value", "Customer lifetime value and repeat rate by tier", "客户终身价值与复购率（按等级）",
       "Customers who ordered in the range (in the channel, if one is chosen), by tier: lifetime revenue "
       "per customer (all their orders so far), average orders, and the share with two orders or more.",
       "所选期间（所选渠道）下过单的客户，按等级：每位客户迄今的累计消费、平均订单数，以及下单两次及以上的客户占比。",
       ["tier", "customers", "lifetime_value", "average_orders", "repeat_rate"], "bars", ("channel", "tier")),
)}
