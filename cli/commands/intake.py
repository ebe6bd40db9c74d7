"""`ordo import FILE --channel X`, `ordo intake dead-letters`, `ordo intake retry ID`,
`ordo schema order`: the intake doors that are not HTTP, through the same code as the API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from channels import registry
from cli.commands.database import migrated_url
from cli.credentials import caller
from config.settings import get_settings
from domain.access import Principal
from domain.model import Order
from domain.records import DeadLetterRecord
from services.errors import NotFound
from services.intake import IntakeService, Outcome
from store import inbox as inbox_store
from store.db import make_engine
from store.vault import Vault

intake_app = typer.Typer(help="The intake inbox and its dead letters.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON Schemas of Ordo's formats.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


async def _with_service(work: Any) -> Any:
    """`work(service, who)`: the intake service and the principal this command acts as."""
    settings = get_settings()
    db = make_engine(settings.effective_database_url)
    writer = inbox_store.InboxWriter(db)
    writer.start()
    try:
        return await work(IntakeService(db, writer, Vault(db, settings.var_dir)), await caller(settings, db))
    finally:
        await writer.stop()
        await db.dispose()


def _payloads(path: Path, channel: str) -> list[bytes]:
    """A file holds one payload, a JSON array of payloads, or JSON lines (one per line)."""
    raw = path.read_bytes()
    if channel in ("pos", "text") and not raw.lstrip().startswith((b"[", b"{")):
        return [raw]
    stripped = raw.strip()
    if stripped.startswith(b"["):
        try:
            return [json.dumps(item, ensure_ascii=False).encode() for item in json.loads(stripped)]
        except json.JSONDecodeError:
            return [raw]
    lines = [ln for ln in stripped.splitlines() if ln.strip()]
    if len(lines) > 1 and all(ln.lstrip().startswith(b"{") for ln in lines):
        return lines
    return [raw]


def import_cmd(
    file: Path = typer.Argument(..., help="the payload file (JSON, JSON array, JSON lines, CSV for pos)"),
    channel: str = typer.Option(..., "--channel", help=f"one of {', '.join(registry.ALL)}"),
    topic: str = typer.Option("", help="Shopify topic, e.g. orders/cancelled"),
) -> None:
    """Put orders from a file into the inbox, exactly as the API would take them."""
    if channel not in registry.ALL:
        err.print(f"--channel must be one of {', '.join(registry.ALL)}, not '{channel}'", style="red")
        raise typer.Exit(2)
    if not file.is_file():
        err.print(f"{file} is not a file", style="red")
        raise typer.Exit(2)
    migrated_url()
    payloads = _payloads(file, channel)

    async def work(service: IntakeService, who: Principal) -> list[Outcome]:
        outcomes = []
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True) as bar:
            task = bar.add_task("import", total=len(payloads))
            for payload in payloads:
                outcomes.append(await (service.accept_batch(who, payload) if channel == "pos"
                                       else service.accept(who, channel, payload, topic)))
                bar.advance(task)
        return outcomes

    outcomes: list[Outcome] = asyncio.run(_with_service(work))
    accepted = duplicates = refused = 0
    for outcome in outcomes:
        if channel == "pos":
            for item in outcome.body.get("accepted", []):
                duplicates += item["duplicate"]
                accepted += not item["duplicate"]
                console.print(f"rows {item['rows']}: {item['order_id']}"
                              + (" (duplicate)" if item["duplicate"] else ""))
            for e in outcome.body.get("errors", []):
                refused += 1
                console.print(f"[red]{e['field']}: {e['reason']}[/]")
            continue
        if outcome.status == 422:
            refused += 1
            for e in outcome.body["errors"]:
                dead = outcome.body["dead_letter_id"]
                console.print(f"[red]{e['field']}: {e['reason']}[/] (dead letter {dead})")
        else:
            duplicates += outcome.status == 200
            accepted += outcome.status == 202
            console.print(f"{outcome.body['order_id']}" + (" (duplicate)" if outcome.status == 200 else ""))
    console.print(f"{accepted} accepted, {duplicates} duplicates, {refused} refused")
    if refused and not accepted and not duplicates:
        raise typer.Exit(1)


@intake_app.command("dead-letters")
def dead_letters(limit: int = typer.Option(50, help="how many, newest first"),
                 all_: bool = typer.Option(False, "--all", help="include ones a retry resolved"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Payloads that were refused, with why; `ordo intake retry ID` re-runs one."""
    migrated_url()

    async def work(service: IntakeService, who: Principal) -> list[DeadLetterRecord]:
        return await service.dead_letters(who, limit, include_resolved=all_)

    rows: list[DeadLetterRecord] = asyncio.run(_with_service(work))
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table("id", "channel", "received", "why", "body")
    for row in rows:
        why = "; ".join(f"{e['field']}: {e['reason']}" for e in row.errors)
        table.add_row(str(row.id), row.channel, f"{row.created_at:%Y-%m-%d %H:%M:%S}", why,
                      row.body[:60].replace("\n", " "))
    console.print(table)
    console.print(f"{len(rows)} dead letter(s)")


@intake_app.command("retry")
def retry(dead_letter_id: int = typer.Argument(..., help="the id from `ordo intake dead-letters`")) -> None:
    """Run a refused payload through its adapter again (after the catalogue or adapter was fixed)."""
    migrated_url()

    async def work(service: IntakeService, who: Principal) -> Outcome:
        return await service.retry(who, dead_letter_id)

    try:
        outcome = asyncio.run(_with_service(work))
    except NotFound as exc:
        err.print(exc.message, style="red")
        raise typer.Exit(1) from None
    if outcome.status == 422:
        for e in outcome.body["errors"]:
            console.print(f"[red]still refused: {e['field']}: {e['reason']}[/]")
        raise typer.Exit(1)
    console.print(f"dead letter {dead_letter_id} accepted: {outcome.body.get('order_id', 'batch')}")


@schema_app.command("order")
def order_schema() -> None:
    """The canonical order (`POST /v1/orders`) as JSON Schema."""
    print(json.dumps(Order.model_json_schema(), indent=2, ensure_ascii=False))
