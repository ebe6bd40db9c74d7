"""The load a chaos scenario runs: orders sent as a channel sends them (each re-sent until
the API answers, some sent several times at once), and a share cancelled by the customer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cli.demo.api import OrdoApi

SKUS = {"COKE-330-24": Decimal("59.00"), "RICE-5KG": Decimal("89.00"), "TSHIRT-M": Decimal("79.00"),
        "POWERBANK-20K": Decimal("159.00")}
PLACES = [("上海市", "上海市", "浦东新区"), ("广东省", "广州市", "天河区"), ("北京市", "北京市", "朝阳区"),
          ("四川省", "成都市", "武侯区"), ("浙江省", "杭州市", "西湖区")]
CANCEL_EVERY = 8  # one order in eight is cancelled by its customer right after it is taken
RATE = 10.0  # orders per second a scenario's load arrives at


def chaos_order(tag: str, i: int) -> dict[str, Any]:
    skus = list(SKUS)
    lines = [(skus[i % len(skus)], 1 + i % 2)] + ([(skus[(i + 1) % len(skus)], 1)] if i % 3 == 0 else [])
    province, city, district = PLACES[i % len(PLACES)]
    return {"channel": "chaos", "external_id": f"{tag}-{i}",
            "customer": {"id": f"chaos-{i}", "tier": "gold" if i % 5 == 0 else "regular"},
            "lines": [{"sku": s, "quantity": q, "unit_price": str(SKUS[s])} for s, q in lines],
            "shipping_address": {"name": "混沌", "phone": f"138{i:08d}", "province": province,
                                 "city": city, "district": district, "street": f"测试路{i}号"},
            "payment": {"method": "alipay", "payer_id": f"chaos-{i}"},
            "total": str(sum((SKUS[s] * q for s, q in lines), Decimal(0)))}


@dataclass
class Sent:
    """One order as its sender saw it: every order id the API answered with (more than one
    would be a second order for the same sale) and whether its customer asked to cancel."""

    external_id: str
    order_ids: set[str] = field(default_factory=set)
    refused: str = ""
    cancel_asked: bool = False


@dataclass
class Load:
    api: OrdoApi
    tag: str
    total: int
    copies: int = 1  # each order sent this many times at once (a duplicate storm)
    cancel_every: int = CANCEL_EVERY  # 0: nobody cancels
    make: Callable[[str, int], dict[str, Any]] = chaos_order  # order number i of this tag
    sent: dict[str, Sent] = field(default_factory=dict)
    answered: int = 0
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_answered(self, count: int) -> None:
        """Until `count` orders have been answered (or every one, if the load is smaller)."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.answered >= min(count, self.total))

    async def run(self, rate: float = RATE, concurrency: int = 16) -> None:
        """Order i leaves at i/rate seconds: the load lasts long enough for a fault to land
        in the middle of it."""
        sem = asyncio.Semaphore(concurrency)
        started = asyncio.get_running_loop().time()

        async def at(i: int) -> None:
            await asyncio.sleep(max(0.0, started + i / rate - asyncio.get_running_loop().time()))
            await self.one(i, sem)

        await asyncio.gather(*(at(i) for i in range(self.total)))

    async def one(self, i: int, sem: asyncio.Semaphore) -> None:
        """Order number `i`: sent (`copies` times), and maybe cancelled once answered."""
        payload = self.make(self.tag, i)
        record = self.sent.setdefault(payload["external_id"], Sent(payload["external_id"]))

        async def send() -> None:
            async with sem:
                try:  # OrdoApi sends again on a dropped connection or a 5xx, as a channel does
                    record.order_ids.add(await self.api.submit(payload))
                except Exception as exc:
                    record.refused = str(exc)[:300]

        await asyncio.gather(*(send() for _ in range(self.copies)))
        async with self._progress:
            self.answered += 1
            self._progress.notify_all()
        if self.cancel_every and i % self.cancel_every == self.cancel_every - 1 and record.order_ids:
            record.cancel_asked = True
            order_id = next(iter(record.order_ids))
            try:  # 409: too late (already shipped) is an answer too
                await self.api.cancel(order_id, "customer changed their mind")
            except Exception as exc:
                record.refused = f"cancel: {exc}"[:300]

    @property
    def acknowledged(self) -> list[str]:
        return sorted(oid for s in self.sent.values() for oid in s.order_ids)
