"""The `ordo` command."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from cli.catalogue import CatalogueFileError, import_file
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
def bench(orders: int = typer.Option(200, help="orders in the measured run (and the baseline)")) -> None:
    """Orders/s and intake-to-waybill latency, with a same-run Temporal baseline."""
    from cli.bench import run_bench
    from cli.processes import StartupError

    settings = get_settings()
    try:
        asyncio.run(run_bench(orders, settings.var_dir / "bench", console))
    except StartupError as exc:
        err.print(f"ordo bench: {exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None


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
