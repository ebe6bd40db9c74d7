"""The `ordo` command: its groups and commands, assembled from `cli/commands/`, `cli/bench/`."""

from __future__ import annotations

import typer

from cli.bench.command import bench
from cli.chaos.command import chaos
from cli.commands import inventory_ops  # noqa: F401  (registers its commands)
from cli.commands.catalogue import catalog_import
from cli.commands.database import db_migrate
from cli.commands.intake import import_cmd, intake_app, schema_app
from cli.commands.inventory import inventory_app
from cli.commands.rules import rules_app
from cli.commands.up import up

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
app.command()(up)
app.command()(bench)
app.command()(chaos)
catalog_app.command("import")(catalog_import)
db_app.command("migrate")(db_migrate)


if __name__ == "__main__":
    app()
