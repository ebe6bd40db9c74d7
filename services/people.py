"""People and machines allowed in: accounts (`ordo users ...`) and API keys (`ordo tokens ...`),
admin only, each change in the audit trail; and the first admin and local key `ordo up`
makes so a new install needs no set-up."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from config.keys import write_private
from config.settings import Settings
from domain.access import SYSTEM, Permission, Principal, Role
from domain.errors import FieldError
from services.access import require
from services.audit import Audit
from services.auth import hash_password, new_api_key, sha256, token_of_key, utcnow
from services.errors import Conflict, Invalid, NotFound
from store import access as access_store

MIN_PASSWORD = 12
LOCAL_TOKEN_NAME = "local-admin"


UserView = access_store.UserSummary
TokenView = access_store.TokenSummary


class NewToken(BaseModel):
    token: TokenView
    key: str  # shown once


def _scope(values: list[str] | None) -> list[str]:
    return sorted({v.strip() for v in values or [] if v.strip()})


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid("the password is too short", [FieldError(
            field="password", reason=f"use at least {MIN_PASSWORD} characters (a passphrase is fine)")])


def read_key_file(path: Path) -> str:
    """The API key in a file (var/admin.token), or "" when there is none."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


class People:
    def __init__(self, db: AsyncEngine, read_db: AsyncEngine, audit: Audit) -> None:
        self.db, self.read_db, self.audit = db, read_db, audit

    async def add_user(self, who: Principal, username: str, role: Role, password: str | None = None,
                       channels: list[str] | None = None, warehouses: list[str] | None = None
                       ) -> tuple[UserView, str]:
        """(the account, its password): a password not given is generated and shown once."""
        require(who, Permission.USERS_ADMIN)
        password = password or secrets.token_urlsafe(15)
        _check_password(password)
        values = {"username": username, "password_hash": hash_password(password), "role": role.value,
                  "channels": _scope(channels), "warehouses": _scope(warehouses)}
        async with self.db.begin() as conn:
            try:
                await access_store.add_user(conn, **values)
            except access_store.Duplicate:
                raise Conflict(f"there is already a user '{username}'") from None
            await self.audit.record(conn, who, "user.added", f"user:{username}", role=role.value,
                                    channels=values["channels"], warehouses=values["warehouses"])
            user = await access_store.get_user(conn, username)
        assert user is not None
        return UserView.model_validate(user.model_dump()), password

    async def users(self, who: Principal) -> list[UserView]:
        require(who, Permission.USERS_ADMIN)
        async with self.read_db.connect() as conn:
            return [UserView.model_validate(u.model_dump()) for u in await access_store.list_users(conn)]

    async def set_disabled(self, who: Principal, username: str, disabled: bool) -> None:
        """Disabling also ends every session of the account at once."""
        require(who, Permission.USERS_ADMIN)
        async with self.db.begin() as conn:
            if not await access_store.update_user(conn, username, disabled=disabled):
                raise NotFound(f"no user '{username}'")
            if disabled:
                await access_store.revoke_sessions_of(conn, username, utcnow())
            action = "user.disabled" if disabled else "user.enabled"
            await self.audit.record(conn, who, action, f"user:{username}")

    async def reset_password(self, who: Principal, username: str, password: str | None = None) -> str:
        """A new password (generated unless given), the lock lifted, every session ended."""
        require(who, Permission.USERS_ADMIN)
        password = password or secrets.token_urlsafe(15)
        _check_password(password)
        async with self.db.begin() as conn:
            if not await access_store.update_user(conn, username, password_hash=hash_password(password),
                                                  failed_logins=0, locked_until=None, last_failed_at=None):
                raise NotFound(f"no user '{username}'")
            await access_store.revoke_sessions_of(conn, username, utcnow())
            await self.audit.record(conn, who, "user.password_reset", f"user:{username}")
        return password

    async def create_token(self, who: Principal, name: str, role: Role, channels: list[str] | None = None,
                           warehouses: list[str] | None = None) -> NewToken:
        require(who, Permission.USERS_ADMIN)
        if not name.strip():
            raise Invalid("the token needs a name", [FieldError(field="name", reason="say what uses it")])
        key_id, key = new_api_key()
        async with self.db.begin() as conn:
            try:
                await access_store.add_token(conn, id=key_id, name=name, secret_hash=sha256(key),
                                             role=role.value,
                                             channels=_scope(channels), warehouses=_scope(warehouses),
                                             created_by=who.subject)
            except access_store.Duplicate:
                raise Conflict(f"there is already a token named '{name}'; revoke it or pick another name") \
                    from None
            await self.audit.record(conn, who, "token.created", f"token:{name}", role=role.value, id=key_id)
            row = await access_store.get_token(conn, key_id)
        assert row is not None
        return NewToken(token=TokenView.model_validate(row.model_dump()), key=key)

    async def tokens(self, who: Principal) -> list[TokenView]:
        require(who, Permission.USERS_ADMIN)
        async with self.read_db.connect() as conn:
            return [TokenView.model_validate(t.model_dump()) for t in await access_store.list_tokens(conn)]

    async def revoke_token(self, who: Principal, name_or_id: str) -> TokenView:
        """Takes effect on the key's next request: every request looks the key up."""
        require(who, Permission.USERS_ADMIN)
        async with self.db.begin() as conn:
            row = (await access_store.token_named(conn, name_or_id)
                   or await access_store.get_token(conn, name_or_id))
            if row is None:
                raise NotFound(f"no token named or with id '{name_or_id}'; `ordo tokens list` shows them")
            if row.revoked_at is None:
                await access_store.update_token(conn, row.id, revoked_at=utcnow())
                await self.audit.record(conn, who, "token.revoked", f"token:{row.name}", id=row.id)
            row = await access_store.get_token(conn, row.id)
        assert row is not None
        return TokenView.model_validate(row.model_dump())

    async def bootstrap(self, settings: Settings, renew_key: bool = True) -> tuple[str | None, Path]:
        """On a database with no accounts: an `admin` with a random password (returned, to be
        printed once, and written to var/admin.password, 0600) and a local admin API key in
        var/admin.token (0600) for the demo and `ordo` commands. `renew_key` (`ordo up`, which
        runs the installation): a key file that is missing, revoked or of another database is
        replaced; otherwise a key is only made with the first account."""
        password: str | None = None
        async with self.read_db.connect() as conn:
            has_users = await access_store.count_users(conn) > 0
        if not has_users:
            try:
                _, password = await self.add_user(SYSTEM, "admin", Role.ADMIN)
            except Conflict:  # another process made it first
                password = None
            else:
                write_private(settings.admin_password_file, password + "\n")
        path = settings.admin_token_file
        if (renew_key or password is not None) and not await self._key_works(path):
            async with self.db.begin() as conn:
                old = await access_store.token_named(conn, LOCAL_TOKEN_NAME)
                if old is not None:  # its key file was lost: retire it under another name
                    await access_store.update_token(conn, old.id, name=f"{LOCAL_TOKEN_NAME}-{old.id}",
                                                    revoked_at=old.revoked_at or utcnow())
            made = await self.create_token(SYSTEM, LOCAL_TOKEN_NAME, Role.ADMIN)
            write_private(path, made.key + "\n")
        return password, path

    async def _key_works(self, path: Path) -> bool:
        row = await token_of_key(self.read_db, read_key_file(path))
        return row is not None and row.revoked_at is None
