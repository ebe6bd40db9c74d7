"""Who is asking: sign-in with a password (argon2id), short-lived signed access tokens tied
to a revocable session, refresh and logout, slow-down and lockout after failed sign-ins,
and machines' API keys.

Every request is checked against the database (the session or the key still live, the
account not disabled), so a logout, a disabled account or a revoked key takes effect on
the next request, not when a token expires. Role and scope are read from the account at
that moment too, so a changed role applies at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from config.keys import secret_key
from config.settings import Settings
from domain.access import Principal, Role
from services.audit import Audit
from services.errors import TooManyAttempts, Unauthenticated
from services.oidc import OidcVerifier
from store import access as access_store

Clock = Callable[[], datetime]
KEY_PREFIX = "ordo_"
WRONG = "wrong username or password"
ALGORITHM = "HS256"
MAX_WAIT_SECONDS = 60


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, RFC 9106's second recommended parameters


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """Checked against when the username is unknown, so a wrong name takes as long as a
    wrong password and sign-in does not tell which accounts exist."""
    return hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def password_matches(stored: str, password: str) -> bool:
    try:
        return hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def wait_after(failures: int, slow_after: int) -> int:
    """Seconds a next try must wait after `failures` failed sign-ins in a row: none for the
    first few (people mistype), then 2, 4, 8 ... up to a minute."""
    if failures < slow_after:
        return 0
    return int(min(2 ** (failures - slow_after + 1), MAX_WAIT_SECONDS))


class SignedIn(BaseModel):
    access_token: str
    refresh_token: str
    csrf_token: str
    token_type: str = "bearer"
    expires_in: int
    username: str
    role: str


def new_api_key() -> tuple[str, str]:
    """(public id, whole key): the id names the key in lists and logs; the whole key is
    shown once and only its SHA-256 is kept (it is random, so a slow hash adds nothing)."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def principal_of_user(user: access_store.UserRow, session_id: str = "") -> Principal:
    return Principal(subject=f"user:{user.username}", role=Role(user.role), channels=tuple(user.channels),
                     warehouses=tuple(user.warehouses), session_id=session_id)


def principal_of_token(token: access_store.TokenRow) -> Principal:
    return Principal(subject=f"token:{token.name}", role=Role(token.role), channels=tuple(token.channels),
                     warehouses=tuple(token.warehouses))


async def token_of_key(read_db: AsyncEngine, key: str) -> access_store.TokenRow | None:
    """The stored key this whole key is (its id names the row, its hash must match), revoked
    or not; None for anything else."""
    parts = key.split("_", 2)
    if len(parts) != 3:
        return None
    async with read_db.connect() as conn:
        token = await access_store.get_token(conn, parts[1])
    return token if token is not None and hmac.compare_digest(token.secret_hash, sha256(key)) else None


class Auth:
    def __init__(self, db: AsyncEngine, read_db: AsyncEngine, settings: Settings, audit: Audit,
                 clock: Clock = utcnow) -> None:
        self.db, self.read_db, self.settings, self.audit, self.clock = db, read_db, settings, audit, clock
        self.key = secret_key(settings.var_dir, "auth", settings.auth_secret)
        self.oidc = OidcVerifier(settings) if OidcVerifier.configured(settings) else None

    # --- people ---------------------------------------------------------------------------

    async def login(self, username: str, password: str, source: str = "") -> SignedIn:
        now = self.clock()
        async with self.read_db.connect() as conn:
            user = await access_store.get_user(conn, username)
        if user is None:  # argon2 is slow on purpose: off the event loop
            await asyncio.to_thread(password_matches, _decoy_hash(), password)
            await self.audit.write("anonymous", "auth.login_failed", f"user:{username}",
                                   reason="unknown user", source=source)
            raise Unauthenticated(WRONG)
        self._refuse_while_locked(user, now)
        if not await asyncio.to_thread(password_matches, user.password_hash, password):
            await self._failed(user, now, source)
        if user.disabled:
            await self.audit.write(f"user:{username}", "auth.login_failed", f"user:{username}",
                                   reason="disabled", source=source)
            raise Unauthenticated(f"the account '{username}' is disabled; ask an admin to enable it")
        return await self._signed_in(user, now, source, password)

    def _refuse_while_locked(self, user: access_store.UserRow, now: datetime) -> None:
        locked_until = _utc(user.locked_until)
        if locked_until and now < locked_until:
            wait = int((locked_until - now).total_seconds()) + 1
            raise TooManyAttempts(
                f"the account '{user.username}' is locked after {user.failed_logins} failed sign-ins "
                f"until {locked_until:%H:%M:%S} UTC; try again then, or ask an admin to reset its password",
                retry_after=wait)
        wait = wait_after(user.failed_logins, self.settings.login_slow_after)
        last = _utc(user.last_failed_at)
        if wait and last and now < last + timedelta(seconds=wait):
            left = int((last + timedelta(seconds=wait) - now).total_seconds()) + 1
            raise TooManyAttempts(f"{user.failed_logins} failed sign-ins in a row: wait {left} s before "
                                  "trying again", retry_after=left)

    async def _failed(self, user: access_store.UserRow, now: datetime, source: str) -> None:
        failures = user.failed_logins + 1
        lock = failures >= self.settings.login_max_failures
        locked_until = now + timedelta(minutes=self.settings.login_lock_minutes) if lock else None
        async with self.db.begin() as conn:
            await access_store.update_user(conn, user.username, failed_logins=failures, last_failed_at=now,
                                           locked_until=locked_until)
            await self.audit.record(conn, f"user:{user.username}", "auth.login_failed",
                                    f"user:{user.username}", failures=failures, locked=lock, source=source)
        if lock:
            raise TooManyAttempts(f"{failures} failed sign-ins: the account '{user.username}' is locked for "
                                  f"{self.settings.login_lock_minutes:g} minutes; an admin can reset its "
                                  "password to unlock it now",
                                  retry_after=int(self.settings.login_lock_minutes * 60))
        raise Unauthenticated(WRONG)

    async def _signed_in(self, user: access_store.UserRow, now: datetime, source: str,
                         password: str) -> SignedIn:
        session_id, refresh = secrets.token_hex(16), secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        async with self.db.begin() as conn:
            changes: dict[str, object] = {"failed_logins": 0, "last_failed_at": None, "locked_until": None,
                                          "last_login_at": now}
            if hasher().check_needs_rehash(user.password_hash):  # argon2's parameters were raised
                changes["password_hash"] = hash_password(password)
            await access_store.update_user(conn, user.username, **changes)
            await access_store.add_session(
                conn, id=session_id, username=user.username, refresh_hash=sha256(refresh), csrf_token=csrf,
                expires_at=now + timedelta(hours=self.settings.refresh_token_hours))
            await self.audit.record(conn, f"user:{user.username}", "auth.login", f"session:{session_id}",
                                    source=source)
        return self._tokens(user, session_id, refresh, csrf, now)

    def _tokens(self, user: access_store.UserRow, session_id: str, refresh: str, csrf: str,
                now: datetime) -> SignedIn:
        lifetime = int(self.settings.access_token_minutes * 60)
        access = jwt.encode({"sub": user.username, "sid": session_id, "typ": "access", "iat": now,
                             "exp": now + timedelta(seconds=lifetime)}, self.key, algorithm=ALGORITHM)
        return SignedIn(access_token=access, refresh_token=refresh, csrf_token=csrf, expires_in=lifetime,
                        username=user.username, role=user.role)

    async def refresh(self, refresh_token: str) -> SignedIn:
        """A new access token and a new refresh token; the old refresh token is spent."""
        now = self.clock()
        async with self.db.begin() as conn:
            session = await access_store.session_by_refresh(conn, sha256(refresh_token))
            if session is None or session.revoked_at or _utc(session.expires_at) <= now:  # type: ignore[operator]
                raise Unauthenticated("the refresh token is not valid (signed out, expired or already "
                                      "used); sign in again at POST /v1/auth/login")
            user = await access_store.get_user(conn, session.username)
            if user is None or user.disabled:
                raise Unauthenticated("the account is disabled; ask an admin")
            refresh = secrets.token_urlsafe(32)
            await access_store.update_session(conn, session.id, refresh_hash=sha256(refresh))
        return self._tokens(user, session.id, refresh, session.csrf_token, now)

    async def logout(self, who: Principal) -> None:
        if not who.session_id:
            return
        async with self.db.begin() as conn:
            await access_store.update_session(conn, who.session_id, revoked_at=self.clock())
            await self.audit.record(conn, who, "auth.logout", f"session:{who.session_id}")

    # --- every request ----------------------------------------------------------------------

    async def from_bearer(self, credential: str) -> Principal:
        """An API key (`ordo_...`), a token from the company's OpenID Connect provider (its
        issuer), or an access token from Ordo's own sign-in."""
        if credential.startswith(KEY_PREFIX):
            return await self.from_api_key(credential)
        if self.oidc is not None and self.oidc.claims_issuer(credential) == self.settings.oidc_issuer:
            return await asyncio.to_thread(self.oidc.principal, credential)  # may fetch the key set
        principal, _ = await self.from_access_token(credential)
        return principal

    async def from_access_token(self, token: str) -> tuple[Principal, str]:
        """(the person, their session's CSRF token)."""
        try:
            claims = jwt.decode(token, self.key, algorithms=[ALGORITHM],
                                options={"require": ["exp", "sub", "sid"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the access token has expired; refresh it at POST /v1/auth/refresh "
                                  "or sign in again") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the credential is not valid; sign in at POST /v1/auth/login or "
                                  "send an API key (`ordo tokens create`)") from None
        if claims.get("typ") != "access":
            raise Unauthenticated("not an access token")
        async with self.read_db.connect() as conn:
            session = await access_store.get_session(conn, str(claims["sid"]))
            user = await access_store.get_user(conn, str(claims["sub"]))
        if session is None or session.revoked_at is not None or session.username != claims["sub"]:
            raise Unauthenticated("this session has ended (signed out); sign in again")
        if user is None or user.disabled:
            raise Unauthenticated("the account is disabled; ask an admin")
        return principal_of_user(user, session.id), session.csrf_token

    async def from_api_key(self, key: str) -> Principal:
        token = await token_of_key(self.read_db, key)
        if token is None:
            raise Unauthenticated("unknown API key; create one with `ordo tokens create`")
        if token.revoked_at is not None:
            raise Unauthenticated(f"the API key '{token.name}' was revoked; ask an admin for a new one")
        now = self.clock()
        last = _utc(token.last_used_at)
        if last is None or now - last > timedelta(minutes=1):  # at most one write a minute per key
            async with self.db.begin() as conn:
                await access_store.update_token(conn, token.id, last_used_at=now)
        return principal_of_token(token)
