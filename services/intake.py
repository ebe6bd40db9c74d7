"""Intake: a payload from any channel becomes a durable inbox row (202) or a dead letter
(422), before anything talks to Temporal; the dispatcher starts the workflows.

Shared by the API endpoints and the `ordo import` / `ordo intake retry` commands, so a
payload is judged the same way whichever door it came in by.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from channels import pos_csv, registry, shopify
from channels.base import Intake, PayloadError
from config.masking import mask_text
from domain.access import Permission, Principal
from domain.errors import FieldError
from domain.model import Product, workflow_id_for
from domain.records import DeadLetterRecord
from services.access import require
from services.errors import Forbidden, NotFound, Unauthenticated
from store import catalog
from store import inbox as inbox_store
from store.vault import Vault

log = structlog.get_logger()
CATALOGUE_TTL = 60.0


@dataclass
class Outcome:
    status: int  # 202 new, 200 duplicate, 422 refused
    body: dict[str, Any]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def accepted_body(acc: inbox_store.Accepted) -> dict[str, Any]:
    return {
        "order_id": acc.order_id,
        "workflow_id": workflow_id_for(acc.order_id),
        "kind": acc.kind,
        "inbox_id": acc.inbox_id,
        "duplicate": acc.duplicate,
        "status_url": f"/v1/orders/{acc.order_id}",
    }


def unexpected(channel: str, exc: Exception) -> FieldError:
    return FieldError(
        field="body",
        reason=f"the payload's structure is not one the {channel} adapter "
        f"understands ({type(exc).__name__}: {exc}); it is kept as a dead letter",
    )


class IntakeService:
    def __init__(self, db: AsyncEngine, writer: inbox_store.InboxWriter, vault: Vault) -> None:
        self.db, self.writer, self.vault = db, writer, vault
        self._products: list[Product] = []
        self._loaded_at = 0.0

    async def products(self) -> list[Product]:
        """The catalogue for free-text matching, re-read at most once a minute."""
        if not self._products or time.monotonic() - self._loaded_at > CATALOGUE_TTL:
            async with self.db.connect() as conn:
                self._products = await catalog.all_products(conn)
            self._loaded_at = time.monotonic()
        return self._products

    async def store(self, item: Intake, raw: bytes) -> inbox_store.Accepted:
        """The order goes in with its personal data in the vault and references in its place,
        so the inbox, the workflow and its history never hold it."""
        order = await self.vault.protect(item.order) if item.order else None
        canonical = order.model_dump(mode="json") if order else {"reason": item.reason}
        return await self.writer.put(
            inbox_store.row_for(
                item.channel,
                item.kind,
                item.external_id,
                item.order_id,
                _text(raw),
                hashlib.sha256(raw).hexdigest(),
                canonical,
            )
        )

    async def refuse(self, channel: str, raw: bytes, errors: list[FieldError], topic: str = "") -> Outcome:
        dl_id = await inbox_store.add_dead_letter(self.db, channel, _text(raw), errors, topic)
        log.warning(
            "intake.rejected", channel=channel, dead_letter_id=dl_id, errors=[e.model_dump() for e in errors]
        )
        return Outcome(
            422,
            {
                "detail": "the payload was refused; it is kept as a dead letter "
                f"(`ordo intake retry {dl_id}` once fixed)",
                "errors": [e.model_dump() for e in errors],
                "dead_letter_id": dl_id,
            },
        )

    async def read(self, channel: str, raw: bytes, topic: str = "") -> Intake:
        """The payload through its adapter; every failure is a PayloadError, never a crash."""
        try:
            products = await self.products() if channel == "text" else []
            return registry.parse(channel, raw, topic, products)
        except PayloadError:
            raise
        except Exception as exc:  # an adapter met a shape it did not expect: refuse, keep, log
            log.exception("intake.adapter_failed", channel=channel)
            raise PayloadError([unexpected(channel, exc)]) from None

    async def accept(self, who: Principal, channel: str, raw: bytes, topic: str = "") -> Outcome:
        require(who, Permission.ORDERS_SUBMIT)
        try:
            item = await self.read(channel, raw, topic)
        except PayloadError as exc:
            return await self.refuse(channel, raw, exc.errors, topic)
        if not who.sees_channel(item.channel):
            raise Forbidden(f"{who.subject} may submit orders of {', '.join(who.channels)} only, "
                            f"not of '{item.channel}'; nothing was kept")
        acc = await self.store(item, raw)
        if acc.duplicate and item.kind == "order" and item.order is not None and item.order.review:
            # the platform re-sent an order we have, now with a refund in flight: hold it
            hold = Intake(
                kind="hold",
                channel=item.channel,
                external_id=item.external_id,
                reason=f"{item.channel} re-sent the order: {item.order.review}",
            )
            await self.store(hold, raw)
        log.info(
            "intake.accepted", channel=channel, order_id=acc.order_id, kind=acc.kind, duplicate=acc.duplicate
        )
        body = accepted_body(acc)
        if item.notes:
            body["notes"] = item.notes
        if item.order is not None and item.order.review:
            body["review"] = item.order.review
        return Outcome(200 if acc.duplicate else 202, body)

    async def dead_letters(self, who: Principal, limit: int, include_resolved: bool = False
                           ) -> list[DeadLetterRecord]:
        require(who, Permission.INTAKE_READ)
        found = await inbox_store.dead_letters(self.db, limit, include_resolved=include_resolved)
        # a refused payload is shown with phones, emails and ID numbers masked (a retry reads the original)
        return [r.model_copy(update={"body": mask_text(r.body)}) for r in found]

    async def retry(self, who: Principal, dead_letter_id: int) -> Outcome:
        """Run a refused payload through its adapter again (after the catalogue or an adapter
        was fixed); the dead letter records the attempt and, if it got in, its inbox row."""
        require(who, Permission.INTAKE_RETRY)
        row = await inbox_store.dead_letter(self.db, dead_letter_id)
        if row is None:
            raise NotFound(f"no dead letter {dead_letter_id}: `ordo intake dead-letters` lists them")
        raw = row.body.encode()
        if row.channel == "pos":
            outcome = await self.accept_batch(who, raw)
            ok = bool(outcome.body.get("accepted")) and not outcome.body.get("errors")
            inbox_id = outcome.body["accepted"][0]["inbox_id"] if ok else None
        else:
            try:
                item = await self.read(row.channel, raw, row.topic)
            except PayloadError as exc:
                await inbox_store.mark_retried(self.db, dead_letter_id, None, exc.errors)
                return Outcome(422, {"errors": [e.model_dump() for e in exc.errors]})
            acc = await self.store(item, raw)
            inbox_id = acc.inbox_id
            outcome = Outcome(200 if acc.duplicate else 202, {"order_id": acc.order_id})
        await inbox_store.mark_retried(self.db, dead_letter_id, inbox_id)
        return outcome

    async def accept_batch(self, who: Principal, raw: bytes) -> Outcome:
        """A POS CSV batch: good transactions go in, bad ones are reported row by row and the
        whole file is kept as a dead letter with those errors."""
        require(who, Permission.ORDERS_SUBMIT)
        if not who.sees_channel("pos"):
            raise Forbidden(f"{who.subject} may not submit POS batches; nothing was kept")
        try:
            batch = pos_csv.parse_batch(raw)
        except PayloadError as exc:
            return await self.refuse("pos", raw, exc.errors)
        except Exception as exc:
            log.exception("intake.adapter_failed", channel="pos")
            return await self.refuse("pos", raw, [unexpected("pos", exc)])
        accepted = []
        lines = _text(raw).splitlines()
        for rows, item in batch.orders:  # each inbox row keeps the header and its own rows
            own = "\n".join([lines[0], *(lines[n - 1] for n in rows if n - 1 < len(lines))]).encode()
            acc = await self.store(item, own)
            accepted.append({"rows": rows, **accepted_body(acc)})
        body: dict[str, Any] = {
            "accepted": accepted,
            "rejected_transactions": batch.rejected_transactions,
            "errors": [e.model_dump() for e in batch.errors],
        }
        if batch.errors:
            body["dead_letter_id"] = await inbox_store.add_dead_letter(
                self.db, "pos", _text(raw), batch.errors, "batch"
            )
        status = 200 if accepted or not batch.errors else 422
        return Outcome(status, body)


def require_shopify_signature(raw: bytes, header: str | None, secret: str) -> None:
    """Every Shopify webhook (orders and returns) is verified the same way before anything
    is read or kept."""
    if not shopify.verify(raw, header, secret):
        raise Unauthenticated("X-Shopify-Hmac-Sha256 does not match the body: check the app secret "
                              "(ORDO_SHOPIFY_SECRET); nothing was processed")


async def intake_counts(who: Principal, db: AsyncEngine) -> dict[str, Any]:
    """Inbox rows by state (pending: accepted, not yet started) and unresolved dead letters."""
    require(who, Permission.INTAKE_READ)
    return {"inbox": await inbox_store.counts(db),
            "dead_letters": await inbox_store.unresolved_dead_letters(db)}
