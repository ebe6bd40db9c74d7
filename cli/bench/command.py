"""`ordo bench`: every section, or one, each against a baseline measured in the same run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from rich.console import Console

from cli.processes import StartupError
from config.settings import get_settings

console = Console()
err = Console(stderr=True)


def codec_cost(plain: dict[str, Any], encrypted: dict[str, Any]) -> dict[str, Any]:
    """Orders/s with the codec against without it, each also against its own baseline."""
    with_codec, without = encrypted["ordo"]["orders_per_s"], plain["ordo"]["orders_per_s"]
    return {"orders_per_s_plain": without, "orders_per_s_encrypted": with_codec,
            "encrypted_over_plain": round(with_codec / without, 3),
            "ratio_to_baseline_plain": plain["ratio"], "ratio_to_baseline_encrypted": encrypted["ratio"]}


def bench(
    orders: int = typer.Option(200, help="orders in the measured run (and the baseline)"),
    section: str = typer.Option("all", help="all, orders, rules, intake, sourcing, carriers, codec "
                                "(orders with and without payload encryption) or dashboard (1M orders in "
                                "PostgreSQL); the last two are not in all"),
    intake_orders: int = typer.Option(10_000, help="orders in the intake section's burst and backlog"),
    history_orders: int = typer.Option(1_000_000, help="historic orders for the dashboard section"),
    waiting_orders: int = typer.Option(10_000, help="of those, waiting in the work queue"),
    orders_workers: int = typer.Option(1, min=1, max=8, help="`orders` worker processes"),
    dispatchers: int = typer.Option(1, min=1, max=8, help="dispatcher processes in the orders section"),
    postgres: bool = typer.Option(False, help="run the orders section on a scratch PostgreSQL database "
                                  "(ORDO_BENCH_PG_URL names the server) instead of SQLite"),
    in_flight: int = typer.Option(200, min=0, help="orders held waiting for tracking to weigh the orders "
                                  "worker's memory (0: skip)"),
    open_loop: bool = typer.Option(True, help="also run orders at a steady half of the measured peak rate"),
    check: bool = typer.Option(False, help="fail when the ratio or the orders worker's CPU per order "
                               "regresses against the figures committed in cli/bench/committed.json"),
    record: bool = typer.Option(False, help="write this run's orders figures to cli/bench/committed.json"),
) -> None:
    """Orders/s and intake-to-waybill latency with a same-run Temporal baseline; rule
    decisions/s on durable_rules against the reference evaluator; simulate over history."""
    from cli.bench.carriers import run_carriers_bench
    from cli.bench.dashboard import run_dashboard_bench
    from cli.bench.guard import record as record_figures
    from cli.bench.guard import regressions
    from cli.bench.intake import run_intake_bench
    from cli.bench.orders import BenchOptions, run_bench
    from cli.bench.rules import run_rules_bench
    from cli.bench.sourcing import run_sourcing_bench

    if section not in ("all", "orders", "rules", "intake", "sourcing", "carriers", "codec", "dashboard"):
        err.print(f"--section must be all, orders, rules, intake, sourcing, carriers, codec or dashboard, "
                  f"not '{section}'", style="red")
        raise typer.Exit(2)
    out_dir = get_settings().var_dir / "bench"
    results: dict[str, object] = {}
    try:
        if section in ("all", "rules"):
            results["rules"] = run_rules_bench(out_dir, console)
        if section in ("all", "sourcing"):
            results["sourcing"] = run_sourcing_bench(out_dir, console)
        if section in ("all", "carriers"):
            results["carriers"] = run_carriers_bench(out_dir, console)
        if section in ("all", "intake"):
            results["intake"] = asyncio.run(run_intake_bench(intake_orders, out_dir, console))
        if section in ("all", "orders"):
            results["orders"] = asyncio.run(run_bench(orders, out_dir, console, options=BenchOptions(
                orders_workers=orders_workers, dispatchers=dispatchers, postgres=postgres,
                open_loop=open_loop, in_flight=in_flight)))
        if section == "dashboard":
            results["dashboard"] = asyncio.run(run_dashboard_bench(history_orders, waiting_orders, out_dir,
                                                                   console))
        if section == "codec":
            results["codec"] = codec_cost(asyncio.run(run_bench(orders, out_dir, console, encrypted=False)),
                                          asyncio.run(run_bench(orders, out_dir, console, encrypted=True)))
            console.print(f"payload encryption: {results['codec']}")
    except StartupError as exc:
        err.print(f"ordo bench: {exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"latest-{section}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    if check and "orders" in results:
        found = regressions(results["orders"])  # type: ignore[arg-type]
        for line in found:
            err.print(f"regression: {line}", style="red", markup=False)
        if found:
            err.print("The figures above fell past the noise margin against cli/bench/committed.json. Find "
                      "the change that cost it (the per-process CPU table says where), or, if the "
                      "cost is deliberate, commit the new figures with `ordo bench --record`.", markup=False)
            raise typer.Exit(1)
        console.print("bench check: within the noise margin of the committed figures")
    if record and "orders" in results:
        console.print(f"committed figures: {record_figures(results['orders'])}")  # type: ignore[arg-type]
