"""`ordo bench --section sourcing`: plans/s of the sourcing optimiser and reservations/s
under concurrency, each against a baseline measured in the same run.

1. Plans: random 10-line orders over 10 warehouses with the demo carriers' rate cards,
   under the split rules' default policy. Baseline: first-fit allocation (each line from
   the nearest warehouses that have it, no search), the "first warehouse" allocation the
   issue calls a bug; its parcel count is reported beside the optimiser's.
2. Reservations: concurrent orders reserving through `store.inventory.reserve` (plan,
   conditional UPDATE, ledger row, reservation row, one transaction) on SQLite and, when
   ORDO_TEST_PG_URL or a PostgreSQL ORDO_DATABASE_URL is set, PostgreSQL. Baseline: the
   same number of bare conditional UPDATEs (one statement per transaction) at the same
   concurrency on the same database.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from sqlalchemy import update

from config.settings import PROJECT_ROOT, get_settings
from domain.geo import distance_rank
from domain.messages import Allocation, LineFacts, ReserveResult
from domain.model import Carrier, Catalogue, Product, StockLevel, Temperature, Warehouse
from domain.rulesets import SplitOutcome
from domain.sourcing import SourcingPolicy, can_hold, plan_sourcing
from domain.splitting import split_into_shipments
from rules.shipped import default_outcome
from store import inventory
from store import tables as t
from store.catalog import import_catalogue
from store.db import make_engine
from store.migrate import migrate

PROVINCES = ["上海", "浙江", "江苏", "广东", "北京", "四川", "湖北", "新疆", "黑龙江", "山东"]
PLANS = 300
RESERVATIONS = 400
CONCURRENCY = 32


def first_fit(
    lines: list[LineFacts],
    available: dict[tuple[str, str], int],
    warehouses: list[Warehouse],
    destination: str,
) -> ReserveResult:
    """The baseline: each line from the nearest warehouses that have it, no search."""
    order = sorted(warehouses, key=lambda w: (distance_rank(w.province, destination), w.code))
    left, allocations = dict(available), []
    for ln in lines:
        need = ln.quantity
        for w in order:
            take = min(need, left.get((ln.sku, w.code), 0)) if can_hold(ln, w) else 0
            if take > 0:
                allocations.append(
                    Allocation(line_no=ln.line_no, sku=ln.sku, warehouse=w.code, quantity=take)
                )
                left[(ln.sku, w.code)] -= take
                need -= take
    return ReserveResult(allocations=allocations, shortages=[])


def _cases(
    rng: random.Random,
) -> tuple[list[Warehouse], list[tuple[list[LineFacts], dict[tuple[str, str], int], str]]]:
    warehouses = [
        Warehouse(code=f"W{i:02d}", name=f"W{i}", province=p, city="c", cold_chain=i % 3 == 0)
        for i, p in enumerate(PROVINCES)
    ]
    skus = [f"SKU-{i:03d}" for i in range(200)]
    cases = []
    for _ in range(PLANS):
        lines = [
            LineFacts(
                line_no=i,
                sku=rng.choice(skus),
                quantity=rng.randrange(1, 5),
                weight_g=800,
                temperature=Temperature.CHILLED if rng.random() < 0.1 else Temperature.AMBIENT,
                hazmat=False,
                oversize=False,
            )
            for i in range(10)
        ]
        available = {(ln.sku, w.code): rng.randrange(0, 6) for ln in lines for w in warehouses}
        cases.append((lines, available, rng.choice(PROVINCES)))
    return warehouses, cases


def plans_per_second(rng: random.Random) -> dict[str, Any]:
    carriers = [
        Carrier.model_validate(c)
        for c in yaml.safe_load(
            (PROJECT_ROOT / "config" / "demo" / "catalog.yaml").read_text(encoding="utf-8")
        )["carriers"]
    ]
    policy = SourcingPolicy.from_outcome(default_outcome(SplitOutcome, "split"))
    warehouses, cases = _cases(rng)
    result: dict[str, Any] = {"orders": len(cases), "lines": 10, "warehouses": len(warehouses)}
    for name, plan in (
        ("first_fit", lambda ls, av, d: first_fit(ls, av, warehouses, d)),
        ("optimiser", lambda ls, av, d: plan_sourcing(ls, av, warehouses, d, policy, carriers)),
    ):
        times, parcels, sources, placed = [], 0, 0, 0
        for lines, available, destination in cases:
            started = time.perf_counter()
            chosen = plan(lines, available, destination)
            times.append(time.perf_counter() - started)
            parcels += len(split_into_shipments("b", chosen.allocations, lines, policy.split))
            sources += len({a.warehouse for a in chosen.allocations})
            placed += sum(a.quantity for a in chosen.allocations)
        times.sort()
        result[name] = {
            "plans_per_s": round(len(times) / sum(times)),
            "p50_ms": round(times[len(times) // 2] * 1e3, 2),
            "p95_ms": round(times[int(len(times) * 0.95)] * 1e3, 2),
            "parcels_per_order": round(parcels / len(cases), 2),
            "warehouses_per_order": round(sources / len(cases), 2),
            "units_per_order": round(placed / len(cases), 2),
        }
    result["ratio"] = round(result["optimiser"]["plans_per_s"] / result["first_fit"]["plans_per_s"], 3)
    return result


async def reservations_per_second(url: str) -> dict[str, Any]:
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    try:
        stock = [
            StockLevel(sku=f"BENCH-{k}", warehouse=w, on_hand=10 * RESERVATIONS)
            for k in ("R", "B")
            for w in ("SH-01", "GZ-01", "BJ-01")
        ]
        await import_catalogue(
            engine,
            Catalogue(
                warehouses=[
                    Warehouse(code=c, name=c, province=p, city=p, cold_chain=True)
                    for c, p in (("SH-01", "上海"), ("GZ-01", "广东"), ("BJ-01", "北京"))
                ],
                products=[
                    Product(sku=f"BENCH-{k}", name="bench", unit_price="1.00", weight_g=100)  # type: ignore[arg-type]
                    for k in ("R", "B")
                ],
                stock=stock,
            ),
        )
        tag = f"{time.time_ns()}"
        sem = asyncio.Semaphore(CONCURRENCY)
        line = [
            LineFacts(
                line_no=0,
                sku="BENCH-R",
                quantity=1,
                weight_g=100,
                temperature=Temperature.AMBIENT,
                hazmat=False,
                oversize=False,
            )
        ]

        def plan(
            lines: list[LineFacts], avail: dict[tuple[str, str], int], whs: list[Warehouse]
        ) -> ReserveResult:
            return plan_sourcing(lines, avail, whs, "上海",
                                 SourcingPolicy.from_outcome(default_outcome(SplitOutcome, "split")))

        async def reserve(i: int) -> None:
            async with sem:
                await inventory.reserve(engine, f"bench-{tag}-{i}", "r1", line, plan, allow_partial=False)

        async def bare(i: int) -> None:
            async with sem, engine.begin() as conn:
                await conn.execute(
                    update(t.stock)
                    .where(
                        t.stock.c.sku == "BENCH-B",
                        t.stock.c.warehouse == "SH-01",
                        t.stock.c.on_hand - t.stock.c.reserved >= 1,
                    )
                    .values(reserved=t.stock.c.reserved + 1)
                )

        rates = {}
        for name, work in (("bare_update", bare), ("reserve", reserve)):
            started = time.perf_counter()
            await asyncio.gather(*(work(i) for i in range(RESERVATIONS)))
            rates[name] = round(RESERVATIONS / (time.perf_counter() - started))
        return {
            "reservations": RESERVATIONS,
            "concurrency": CONCURRENCY,
            "per_s": rates,
            "ratio": round(rates["reserve"] / rates["bare_update"], 3),
        }
    finally:
        await engine.dispose()


def _postgres_url() -> str:
    url = os.environ.get("ORDO_TEST_PG_URL", "") or get_settings().database_url
    return url if url.startswith("postgresql") else ""


def run_sourcing_bench(out_dir: Path, console: Console) -> dict[str, Any]:
    rng = random.Random(5)
    with console.status("sourcing: plans for 10-line orders over 10 warehouses..."):
        result: dict[str, Any] = {"plans": plans_per_second(rng), "reservations": {}}
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / "sourcing-bench.db"
    scratch.unlink(missing_ok=True)
    targets = {"sqlite": f"sqlite+aiosqlite:///{scratch}"}
    if pg := _postgres_url():
        targets["postgresql"] = pg
    for name, url in targets.items():
        with console.status(f"sourcing: {RESERVATIONS} concurrent reservations on {name}..."):
            result["reservations"][name] = asyncio.run(reservations_per_second(url))
    scratch.unlink(missing_ok=True)

    p = result["plans"]
    table = Table(title="sourcing: 10-line orders over 10 warehouses", width=110)
    for col in ("planner", "plans/s", "p50 ms", "p95 ms", "parcels/order", "warehouses/order", "units/order"):
        table.add_column(col)
    for name in ("first_fit", "optimiser"):
        r = p[name]
        table.add_row(
            name,
            str(r["plans_per_s"]),
            str(r["p50_ms"]),
            str(r["p95_ms"]),
            str(r["parcels_per_order"]),
            str(r["warehouses_per_order"]),
            str(r["units_per_order"]),
        )
    console.print(table)
    console.print(f"optimiser / first-fit plans/s: {p['ratio']}")
    for name, r in result["reservations"].items():
        console.print(
            f"reservations on {name} ({r['concurrency']} concurrent): {r['per_s']['reserve']}/s; "
            f"bare conditional UPDATE {r['per_s']['bare_update']}/s; ratio {r['ratio']}"
        )
    return result
