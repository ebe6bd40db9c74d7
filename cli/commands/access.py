"""`ordo users ...`, `ordo tokens ...` and `ordo audit ...`: people, API keys and the audit
trail, through the same services (and permission checks) as the API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cli.commands.database import migrated_url
from cli.credentials import authorised, caller, refused
from config.sealing import rotate
from config.settings import get_settings
from domain.access import ROLE_SUMMARY, Permission, Principal, Role
from services.audit import Audit
from services.errors import ServiceError
from services.people import People
from services.privacy import Privacy
from store.db import make_engine

users_app = typer.Typer(help="People who sign in (roles: " + ", ".join(r.value for r in Role) + ").",
                        no_args_is_help=True)
tokens_app = typer.Typer(help="API keys for machines: ERP jobs, scripts, the demo.", no_args_is_help=True)
privacy_app = typer.Typer(help="Personal data: erasure, retention, key rotation.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: who changed what, chained by hashes.", no_args_is_help=True)
console = Console()
T = TypeVar("T")
ROLE_HELP = "; ".join(f"{r.value}: {s}" for r, s in ROLE_SUMMARY.items())
SCOPE_HELP = "comma-separated; empty: every one"


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _as_caller(work: Callable[[Principal, People, Audit], Awaitable[T]]) -> T:
    """Run `work` as this command's caller; a refusal is printed with what to do, exit 2."""
    settings = get_settings()
    url = migrated_url()

    async def go() -> T:
        db = make_engine(url)
        try:
            audit = Audit(db, db, settings)
            return await work(await caller(settings, db), People(db, db, audit), audit)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except ServiceError as exc:
        refused(exc)


@users_app.command("add")
def users_add(username: str, role: Role = typer.Option(..., help=ROLE_HELP),
              channels: str = typer.Option("", help=SCOPE_HELP),
              warehouses: str = typer.Option("", help=SCOPE_HELP)) -> None:
    """Add a person; their password is generated and shown once."""
    user, password = _as_caller(lambda who, people, _: people.add_user(
        who, username, role, None, _split(channels), _split(warehouses)))
    console.print(f"added {user.username} ({user.role}); password, shown once: {password}", highlight=False)


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json")) -> None:
    found = _as_caller(lambda who, people, _: people.users(who))
    if as_json:
        print(json.dumps([u.model_dump(mode="json") for u in found], indent=2))
        return
    table = Table("user", "role", "channels", "warehouses", "state", "last sign-in")
    for u in found:
        state = "disabled" if u.disabled else "locked" if u.locked_until else "active"
        table.add_row(u.username, u.role, ",".join(u.channels) or "all", ",".join(u.warehouses) or "all",
                      state, f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never")
    console.print(table)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """The person can no longer sign in; their sessions end at once."""
    _as_caller(lambda who, people, _: people.set_disabled(who, username, True))
    console.print(f"{username} disabled; every session of theirs has ended")


@users_app.command("enable")
def users_enable(username: str) -> None:
    _as_caller(lambda who, people, _: people.set_disabled(who, username, False))
    console.print(f"{username} enabled")


@users_app.command("reset-password")
def users_reset_password(username: str) -> None:
    """A new password (shown once); lifts a lock and ends every session."""
    password = _as_caller(lambda who, people, _: people.reset_password(who, username))
    console.print(f"new password for {username}, shown once: {password}", highlight=False)


@tokens_app.command("create")
def tokens_create(name: str = typer.Option(..., help="what uses it, e.g. erp-nightly"),
                  role: Role = typer.Option(..., help=ROLE_HELP),
                  channels: str = typer.Option("", help=SCOPE_HELP),
                  warehouses: str = typer.Option("", help=SCOPE_HELP)) -> None:
    """A new API key, printed once (Ordo keeps only its hash): send it as `Authorization: Bearer KEY`."""
    made = _as_caller(lambda who, people, _: people.create_token(
        who, name, role, _split(channels), _split(warehouses)))
    Console(stderr=True).print(f"token '{made.token.name}' ({made.token.role}) created; the key, shown once:")
    print(made.key)


@tokens_app.command("list")
def tokens_list(as_json: bool = typer.Option(False, "--json")) -> None:
    found = _as_caller(lambda who, people, _: people.tokens(who))
    if as_json:
        print(json.dumps([t.model_dump(mode="json") for t in found], indent=2))
        return
    table = Table("id", "name", "role", "channels", "warehouses", "created by", "last used", "state")
    for t in found:
        table.add_row(t.id, t.name, t.role, ",".join(t.channels) or "all", ",".join(t.warehouses) or "all",
                      t.created_by, f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
                      "revoked" if t.revoked_at else "active")
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: str = typer.Argument(..., help="the token's name or id")) -> None:
    """Takes effect on the key's next request."""
    revoked = _as_caller(lambda who, people, _: people.revoke_token(who, name))
    console.print(f"token '{revoked.name}' revoked")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first row changed, deleted or inserted out of order."""
    check = _as_caller(lambda who, _, audit: audit.verify(who))
    if check.ok:
        console.print(f"audit trail intact: {check.checked} rows, every hash in its chain")
        return
    Console(stderr=True).print(f"audit trail broken at row {check.first_bad_seq}: {check.problem} "
                               f"({check.checked} rows before it are intact)", style="red", highlight=False)
    raise typer.Exit(1)


@audit_app.command("list")
def audit_list(actor: str = typer.Option(None), action: str = typer.Option(None, help="e.g. order.*"),
               limit: int = typer.Option(50), as_json: bool = typer.Option(False, "--json")) -> None:
    """The newest rows first."""
    found = _as_caller(lambda who, _, audit: audit.entries(who, actor, action, None, None, limit))
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in found], ensure_ascii=False, indent=2))
        return
    table = Table("seq", "at", "actor", "action", "target", "detail")
    for e in found:
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.target,
                      json.dumps(e.detail, ensure_ascii=False)[:80])
    console.print(table)


@privacy_app.command("erase")
def privacy_erase(customer: str = typer.Option(..., "--customer", help="the customer's id in Ordo")) -> None:
    """Make a customer's personal data unreadable everywhere Ordo keeps it (PIPL); their
    orders' figures and decisions stay, their name, phone and address read `[erased]`."""
    done = _as_caller(lambda who, _, audit: Privacy(audit.db, audit).erase_customer(who, customer))
    console.print(f"erased customer {customer}: {len(done.orders)} order(s), {done.vault_records} vault "
                  f"record(s), {done.raw_rows} raw payload(s)")


@privacy_app.command("purge")
def privacy_purge(older_than_days: float = typer.Option(None, help="default: ORDO_RETENTION_DAYS")) -> None:
    """The retention schedule now: personal data of orders closed more than N days ago."""
    days = older_than_days or get_settings().retention_days
    done = _as_caller(lambda who, _, audit: Privacy(audit.db, audit).purge_expired(who, days))
    console.print(f"purged {len(done.orders)} order(s) closed over {days:g} days ago, "
                  f"{done.raw_rows} raw payload(s)")


@privacy_app.command("rotate-key")
def privacy_rotate_key(codec: bool = typer.Option(False, "--codec", help="the Temporal payload key, not the "
                                                  "vault's")) -> None:
    """A new key seals from now on; what was sealed before opens with its own key."""
    settings = get_settings()
    authorised(settings, Permission.SETTINGS_WRITE)
    key = rotate(settings.var_dir, "codec" if codec else "data")
    console.print(f"new key {key}; restart Ordo's processes to seal with it")
