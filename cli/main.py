"""The `ordo` command: its groups and commands, assembled from `cli/commands/`, `cli/bench/`."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from cli.bench.command import bench
from cli.chaos.command import chaos
from cli.commands import inventory_ops  # noqa: F401  (registers its commands)
from cli.commands.access import audit_app, privacy_app, tokens_app, users_app
from cli.commands.catalogue import catalog_import
from cli.commands.database import db_migrate
from cli.commands.history import history_app
from cli.commands.intake import import_cmd, intake_app, schema_app
from cli.commands.inventory import inventory_app
from cli.commands.rules import rules_app
from cli.commands.screenshots import screenshots
from cli.commands.up import up


class _Ordo(typer.Typer):
    """Once a command that spoke to Temporal has finished and its output is flushed, the
    process ends without CPython's finalization: the Temporal SDK's Rust threads can crash it
    there (temporalio/sdk-python#300), and a command that succeeded would exit -11 or -6."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            super().__call__(*args, **kwargs)
            code = 0
        except SystemExit as exc:
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if "temporalio.bridge.temporal_sdk_bridge" in sys.modules:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)


app = _Ordo(help="Ordo: automatic multi-channel order management.", no_args_is_help=True,
            pretty_exceptions_enable=False)
catalog_app = typer.Typer(help="Products, warehouses, stock and carriers.", no_args_is_help=True)
db_app = typer.Typer(help="The OMS database.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(db_app, name="db")
app.add_typer(rules_app, name="rules")
app.add_typer(intake_app, name="intake")
app.add_typer(inventory_app, name="inventory")
app.add_typer(schema_app, name="schema")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
app.add_typer(history_app, name="history")
app.command("import")(import_cmd)
app.command()(up)
app.command()(bench)
app.command()(screenshots)
app.command()(chaos)
catalog_app.command("import")(catalog_import)
db_app.command("migrate")(db_migrate)


if __name__ == "__main__":
    app()
