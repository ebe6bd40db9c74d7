"""The `ordo` command."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from cli import inventory_ops  # noqa: F401  (registers its commands)
from cli.catalogue import CatalogueFileError, import_file
from cli.intake import import_cmd, intake_app, schema_app
from cli.inventory import inventory_app
from cli.processes import StartupError
from cli.rules import rules_app
from config.settings import get_settings
from store.migrate import MigrationError, migrate

app = typer.Typer(help="Ordo: automatic multi-channel order management.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
catalog_app = typer.Typer(help="Products, warehouses, stock and carriers.", no_args_is_help=True)
db_app = typer.Typer(help="The OMS database.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(db_app, name="db")
app.add_typer(rules_app, name="rules")
app.add_typer(intake_app, name="intake")
app.add_typer(inventory_app, name="inventory")
app.add_typer(schema_app, name="schema")
app.command("import")(import_cmd)
console = Console()
err = Console(stderr=True)


@app.command()
def up(
    demo_orders: int = typer.Option(30, help="demo orders to submit (0: just serve)"),
    until_done: bool = typer.Option(False, help="exit once every demo order is settled"),
    timeout: float = typer.Option(600, help="with --until-done: give up after this many seconds"),
    sim_failure_rate: float = typer.Option(0.02, help="share of simulator calls that fail with 500"),
    tracking_step: float = typer.Option(0.5, help="seconds between simulated tracking events"),
) -> None:
    """Start Temporal, the simulators, the API and one worker per queue; run demo orders."""
    from cli.up import run_up

    try:
        code = asyncio.run(run_up(get_settings(), demo_orders, until_done, timeout,
                                  sim_failure_rate, tracking_step, console))
    except StartupError as exc:
        err.print(f"ordo up: {exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("stopped: every child process was shut down; `ordo up` resumes from var/")
        raise typer.Exit(130) from None
    raise typer.Exit(code)


@app.command()
def bench(
    orders: int = typer.Option(200, help="orders in the measured run (and the baseline)"),
    section: str = typer.Option("all", help="all, orders, rules, intake, sourcing or carriers"),
    intake_orders: int = typer.Option(10_000, help="orders in the intake section's burst and backlog"),
) -> None:
    """Orders/s and intake-to-waybill latency with a same-run Temporal baseline; rule
    decisions/s on durable_rules against the reference evaluator; simulate over history."""
    import json

    from cli.bench import run_bench
    from cli.bench_carriers import run_carriers_bench
    from cli.bench_intake import run_intake_bench
    from cli.bench_rules import run_rules_bench
    from cli.bench_sourcing import run_sourcing_bench
    from cli.processes import StartupError

    if section not in ("all", "orders", "rules", "intake", "sourcing", "carriers"):
        err.print(f"--section must be all, orders, rules, intake, sourcing or carriers, not '{section}'",
                  style="red")
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
    except StartupError as exc:
        err.print(f"ordo bench: {exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"latest-{section}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


@catalog_app.command("import")
def catalog_import(file: Path = typer.Argument(..., help="YAML or JSON catalogue file")) -> None:
    """Load products, warehouses, stock and carriers (format: README, 'Catalogue files')."""
    settings = get_settings()
    try:
        migrate(settings.effective_database_url)
        counts = asyncio.run(import_file(file, settings.effective_database_url))
    except (CatalogueFileError, MigrationError) as exc:
        err.print(f"{exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    console.print("imported " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@db_app.command("migrate")
def db_migrate() -> None:
    """Bring the database to the latest schema."""
    settings = get_settings()
    try:
        migrate(settings.effective_database_url)
    except MigrationError as exc:
        err.print(f"{exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    console.print("database is at the latest schema")


if __name__ == "__main__":
    app()
