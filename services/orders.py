"""Orders: start one, read one (live from its workflow, or as stored), and the operator's
actions on it (cancel, hold, release, paid, change the address), which are Temporal Updates
whose validators decide."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from config import queues
from config.masking import mask_value
from domain.access import Permission, Principal, Purpose
from domain.messages import ActionResult, AddressChange, OperatorNote, OrderState
from domain.model import Order, workflow_id_for
from domain.records import OrderRecord, TransitionRow
from domain.status import shown_status
from services.access import require, require_order
from services.audit import Audit
from services.errors import Conflict, NotFound, Unavailable
from services.temporal import QUERY_TIMEOUT, UPDATE_TIMEOUT, LazyTemporal, timed_out, unreachable
from store import inbox as inbox_store
from store import orders as order_store
from store.vault import Vault

log = structlog.get_logger()
NO_SUCH_ORDER = "no order '{}'; order ids look like <channel>-<external id>"
NO_ANSWER = (f"no orders worker answered within {UPDATE_TIMEOUT.seconds}s (down, or busy with a backlog); "
             "check `worker.py --queue orders` is running, then retry")
# A workflow started an instant ago can still answer NOT_FOUND (seen in CI): tries, and the
# first pause, doubled each time (0.1 + 0.2 + ... + 1.6 s).
JUST_STARTED_TRIES = 6
JUST_STARTED_PAUSE = 0.1


async def start_order(client: Client, order: Order) -> str:
    """Start the order's workflow; the business-key id makes a second start a no-op."""
    try:
        await client.start_workflow(
            "OrderWorkflow",
            order,
            id=order.workflow_id,
            task_queue=queues.ORDERS,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        return "started"
    except WorkflowAlreadyStartedError:
        return "already started"


class InboxEntry(BaseModel):
    id: int
    state: str


class OrderView(BaseModel):
    """An order as a person asks for it: `workflow` is the live state when its workflow
    answered (`live`), `record` what the database holds; an order accepted but not started
    yet has only `order` and `inbox`."""

    order_id: str
    workflow_id: str
    status: str
    order: dict[str, Any] | None
    record: OrderRecord | None
    workflow: OrderState | None
    live: bool
    inbox: InboxEntry | None = None


class Statuses(BaseModel):
    orders: dict[str, str]
    by_status: dict[str, int]


class Orders:
    def __init__(self, db: AsyncEngine, read_db: AsyncEngine, temporal: LazyTemporal, audit: Audit,
                 vault: Vault) -> None:
        self.db, self.read_db, self.temporal, self.audit, self.vault = db, read_db, temporal, audit, vault

    async def read(self, who: Principal, order_id: str) -> OrderView:
        require_order(who, Permission.ORDERS_READ, order_id)
        record = await order_store.get_order(self.read_db, order_id)
        live: OrderState | None = None
        unanswered = False
        try:
            client = await self.temporal.client()
            live = await client.get_workflow_handle(workflow_id_for(order_id)).query(
                "status", result_type=OrderState, rpc_timeout=QUERY_TIMEOUT)
        except Unavailable as exc:  # Temporal is away: the stored record answers
            unanswered = True
            log.warning("order.query_unavailable", order_id=order_id, reason=exc.message)
        except RPCError as exc:
            # NOT_FOUND: retention has passed; DEADLINE_EXCEEDED: no orders worker is polling
            # right now (a query needs one); UNAVAILABLE: Temporal is restarting. Whichever,
            # the stored record still answers.
            unanswered = timed_out(exc) or unreachable(exc)
            if exc.status != RPCStatusCode.NOT_FOUND and not unanswered:
                raise
            log.warning("order.query_unavailable", order_id=order_id, reason=exc.message)
        if record is None and live is None:
            waiting = [r for r in await inbox_store.for_order(self.read_db, order_id) if r.kind == "order"]
            if waiting:  # accepted, the dispatcher has not started it yet
                return OrderView(order_id=order_id, workflow_id=workflow_id_for(order_id), status="accepted",
                                 order=waiting[0].canonical, record=None, workflow=None, live=False,
                                 inbox=InboxEntry(id=waiting[0].id, state=waiting[0].state))
            if not unanswered:
                raise NotFound(NO_SUCH_ORDER.format(order_id))
        status = shown_status(live.status if live else None, record.status if record else None)
        return OrderView(order_id=order_id, workflow_id=workflow_id_for(order_id), status=status,
                         order=record.payload if record else None, record=record, workflow=live,
                         live=live is not None)

    async def timeline(self, who: Principal, order_id: str) -> list[TransitionRow]:
        require_order(who, Permission.ORDERS_READ, order_id)
        return await order_store.transitions(self.read_db, order_id)

    async def view(self, who: Principal, order_id: str, reveal: Purpose | None = None) -> dict[str, Any]:
        """The order as a person reads it: personal data masked, unless `reveal` states why
        they need it and they hold `pii:read`; every reveal is in the audit trail."""
        if reveal is not None:
            require_order(who, Permission.PII_READ, order_id)
        found = await self.read(who, order_id)
        body = found.model_dump(mode="json", exclude={"record": {"payload"}}, exclude_none=False)
        if found.inbox is None:
            body.pop("inbox")
        body["record"] = body["record"] or {}
        body = await self.vault.resolve(body)
        if reveal is None:
            return {k: mask_value(k, v) for k, v in body.items()}
        await self.audit.write(who, "pii.reveal", order_id, purpose=reveal.value)
        return body

    async def act(self, who: Principal, order_id: str, update: str,
                  arg: OperatorNote | AddressChange) -> ActionResult:
        """The operator's Update, in the audit trail with the status before and after (or the
        refusal); the operator is whoever signed in, never what the body says."""
        require_order(who, Permission.ORDERS_ACT, order_id)
        if isinstance(arg, OperatorNote):
            arg = arg.model_copy(update={"operator": who.subject})
        before = await order_store.get_order(self.read_db, order_id)
        if isinstance(arg, AddressChange):  # the new address goes to the vault, not to Temporal
            arg = arg.model_copy(update={"address": await self.vault.protect_address(
                arg.address, order_id, await self._customer_of(order_id, before))})
        try:
            result = await self._update(order_id, update, arg)
        except (Conflict, NotFound) as exc:
            await self.audit.write(who, f"order.{update}", order_id, outcome="refused", reason=arg.reason,
                                   refusal=exc.message, before=before.status if before else None)
            raise
        changed = {}  # as vault references: erasing the customer leaves nothing readable here
        if isinstance(arg, AddressChange):
            changed = {"address": arg.address.model_dump(),
                       "address_before": before.payload.get("shipping_address") if before else None}
        await self.audit.write(who, f"order.{update}", order_id, outcome="done", reason=arg.reason,
                               before=before.status if before else None, after=result.status.value, **changed)
        return result

    async def _customer_of(self, order_id: str, record: OrderRecord | None) -> str:
        if record is not None:
            return record.customer_id
        waiting = [r for r in await inbox_store.for_order(self.read_db, order_id) if r.kind == "order"]
        return str(waiting[0].canonical["customer"]["id"]) if waiting else ""

    async def _update(self, order_id: str, update: str, arg: OperatorNote | AddressChange) -> ActionResult:
        """Send the Update; an order accepted moments ago is started first (a second start
        is a no-op). Refused by the workflow: Conflict with its reason."""
        client = await self.temporal.client()
        handle = client.get_workflow_handle(workflow_id_for(order_id))
        try:
            try:
                return await handle.execute_update(update, arg, result_type=ActionResult,
                                                   rpc_timeout=UPDATE_TIMEOUT)
            except RPCError as exc:
                accepted = [r for r in await inbox_store.for_order(self.db, order_id) if r.kind == "order"]
                if exc.status != RPCStatusCode.NOT_FOUND or not accepted:
                    raise
                await start_order(client, Order.model_validate(accepted[0].canonical))
                return await self._update_just_started(client, order_id, update, arg)
        except WorkflowUpdateFailedError as exc:
            reason = getattr(exc.cause, "message", None) or str(exc)
            raise Conflict(reason, order_id=order_id, action=update) from None
        except RPCTimeoutOrCancelledError:  # the SDK's form of the update's rpc_timeout
            raise Unavailable(NO_ANSWER, order_id=order_id, action=update) from None
        except RPCError as exc:
            if timed_out(exc):
                raise Unavailable(NO_ANSWER, order_id=order_id, action=update) from None
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            record = await order_store.get_order(self.db, order_id)
            if record is None:
                raise NotFound(NO_SUCH_ORDER.format(order_id)) from None
            raise Conflict(f"cannot {update}: the order is already {record.status}",
                           order_id=order_id, action=update) from None

    async def _update_just_started(self, client: Client, order_id: str, update: str,
                                   arg: OperatorNote | AddressChange) -> ActionResult:
        handle = client.get_workflow_handle(workflow_id_for(order_id))
        for attempt in range(JUST_STARTED_TRIES):
            try:
                return await handle.execute_update(update, arg, result_type=ActionResult,
                                                   rpc_timeout=UPDATE_TIMEOUT)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND or attempt == JUST_STARTED_TRIES - 1:
                    raise
                await asyncio.sleep(JUST_STARTED_PAUSE * 2**attempt)
        raise AssertionError("unreachable")

    async def counts(self, who: Principal) -> dict[str, int]:
        require(who, Permission.ORDERS_READ)
        return await order_store.counts_by_status(self.read_db, channels=who.channels)

    async def statuses(self, who: Principal, order_ids: list[str]) -> Statuses:
        """Where each of these orders stands (`accepted`: in the inbox, not started yet), and
        how many are in each status; orders outside the caller's channels are left out."""
        require(who, Permission.ORDERS_READ)
        order_ids = [oid for oid in order_ids if who.sees_order(oid)]
        stored = await order_store.statuses(self.read_db, order_ids)
        each = {oid: stored.get(oid, "accepted") for oid in order_ids}
        counts: dict[str, int] = {}
        for status in each.values():
            counts[status] = counts.get(status, 0) + 1
        return Statuses(orders=each, by_status=counts)

    async def payment_notified(self, form: dict[str, str]) -> bool:
        """Stored once per notify_id; False for a repeat."""
        new = await order_store.record_payment_notification(self.db, form)
        log.info("payment.notified", order_id=form["out_trade_no"], status=form["trade_status"],
                 duplicate=not new)
        return new
