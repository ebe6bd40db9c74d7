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
) -> None:
    """Orders/s and intake-to-waybill latency with a same-run Temporal baseline; rule
    decisions/s on durable_rules against the reference evaluator; simulate over history."""
    from cli.bench.carriers import run_carriers_bench
    from cli.bench.dashboard import run_dashboard_bench
    from cli.bench.intake import run_intake_bench
    from cli.bench.orders import run_bench
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
            results["orders"] = asyncio.run(run_bench(orders, out_dir, console))
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
