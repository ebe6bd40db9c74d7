"""JD Logistics on the JD open platform (JOS `routerjson`): form parameters `method`,
`app_key`, `timestamp`, `v`, `360buy_param_json`, signed `sign = upper(md5(secret + sorted
k+v + secret))`. `jingdong.ldop.waybill.receive` takes `orderId` (de-duplicated), `weight`
(kg), `vloumn` (cm3, JD's spelling), `goodsType` (1 normal, 6 temperature-controlled, 7 chilled,
8 frozen) and `promiseTimeType` (1 特惠送, 2 特快送, 8 生鲜专送), and answers in a key spelt
`..._responce`. JD's tracking reaches Ordo through Kuaidi100 (`domain.wire.kuaidi100`)."""

from __future__ import annotations

from domain.wire.top import sign

__all__ = ["sign", "response_key"]

RECEIVE = "jingdong.ldop.waybill.receive"
INTERCEPT = "jingdong.ldop.receive.order.intercept"
OK = 100
GOODS_TYPE = {"ambient": 1, "chilled": 7, "frozen": 8}
PROMISE = {"standard": 1, "express": 2, "cold_chain": 8, "freight": 1}


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_responce"
