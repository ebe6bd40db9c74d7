"""Returns: open one (asked over the API or on a channel), read them, and an operator's
review. One ReturnWorkflow per RMA; the same request again answers with the first RMA."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from channels import returns as channel_returns
from channels.base import PayloadError
from config import queues
from config.masking import mask_value
from domain.access import Permission, Principal
from domain.errors import FieldError, field_path
from domain.model import Order
from domain.records import OrderRecord, ReturnRecord
from domain.returns import ReturnApproval, ReturnRequest, ReturnState, return_workflow_id
from services.access import require, require_order
from services.audit import Audit
from services.errors import Conflict, Invalid, NotFound
from services.temporal import LazyTemporal
from store import inbox as inbox_store
from store import orders as order_store
from store import returns as return_store

log = structlog.get_logger()
CHANNELS = ("shopify", "taobao", "tmall")


@dataclass(frozen=True)
class Opened:
    rma: str
    created: bool  # false: the same request was made before, this is its RMA


def _masked(record: ReturnRecord) -> ReturnRecord:
    """A customer's note may hold a phone number or an address: masked like everything personal."""
    return record.model_copy(update={"request": mask_value("request", record.request)})


class Returns:
    def __init__(self, db: AsyncEngine, read_db: AsyncEngine, temporal: LazyTemporal, audit: Audit) -> None:
        self.db, self.read_db, self.temporal, self.audit = db, read_db, temporal, audit

    async def _refuse(self, error: type[Invalid | NotFound | Conflict], topic: str, raw: bytes,
                      message: str, errors: list[FieldError]) -> Exception:
        """The refused request is kept as a dead letter, so nothing asked for is lost."""
        dl = await inbox_store.add_dead_letter(self.db, "returns", raw.decode("utf-8", "replace"), errors,
                                               topic=topic)
        log.warning("return.refused", order_id=topic, dead_letter_id=dl, errors=len(errors))
        return error(message, errors, dead_letter_id=dl)

    async def request(self, who: Principal, order_id: str, raw: bytes) -> Opened:
        """A return asked for over the API: a `ReturnRequest` body."""
        require_order(who, Permission.ORDERS_SUBMIT, order_id)
        record = await order_store.get_order(self.db, order_id)
        if record is None:
            raise NotFound(f"no order {order_id}; check the id (GET /v1/orders/{{id}})")
        try:
            req = ReturnRequest.model_validate_json(raw)
        except ValidationError as exc:
            errors = [FieldError(field=field_path(tuple(e["loc"])) or "body",
                                 reason=str(e["msg"]).removeprefix("Value error, ")) for e in exc.errors()]
            raise await self._refuse(Invalid, order_id, raw, "the return request is not valid",
                                     errors) from None
        return await self._open(order_id, record, raw, req)

    async def from_channel(self, who: Principal, channel: str, raw: bytes) -> Opened:
        """Shopify's `returns/request` (its signature checked by the caller) or Taobao/Tmall's
        `taobao.refund.get`; the channel's refund id is the request id."""
        require(who, Permission.ORDERS_SUBMIT)
        if channel not in CHANNELS:
            raise NotFound(f"no channel '{channel}' for returns: use shopify, taobao or tmall "
                           "(or POST /v1/orders/{id}/returns)")
        try:
            asked = (channel_returns.read_shopify(raw) if channel == "shopify"
                     else channel_returns.read_taobao(raw, channel))
        except PayloadError as exc:
            raise await self._refuse(Invalid, channel, raw, f"the {channel} return is not valid",
                                     exc.errors) from None
        require_order(who, Permission.ORDERS_SUBMIT, asked.order_id)
        record = await order_store.get_order(self.db, asked.order_id)
        if record is None:
            raise await self._refuse(NotFound, asked.order_id, raw, f"no order {asked.order_id}", [
                FieldError(field="order", reason=f"{asked.order_id} never reached Ordo; the request "
                           "is kept as a dead letter: send it again once the order is in")])
        try:
            req = channel_returns.to_request(asked, Order.model_validate(record.payload))
        except PayloadError as exc:
            raise await self._refuse(Invalid, asked.order_id, raw,
                                     "the return names lines the order does not have", exc.errors) from None
        return await self._open(asked.order_id, record, raw, req)

    async def _open(self, order_id: str, record: OrderRecord, raw: bytes, req: ReturnRequest) -> Opened:
        """Check the request against what was delivered, record the RMA, start its workflow."""
        if not req.request_id:
            canonical = json.dumps(req.model_dump(mode="json"), sort_keys=True)
            req.request_id = "h-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
        delivered, _, _ = await return_store.delivered_units(self.db, order_id)
        if not delivered:
            raise await self._refuse(Conflict, order_id, raw, "nothing on this order has been delivered yet",
                                     [
                FieldError(field="order_id", reason=f"order {order_id} is {record.status}; a return can be "
                           "asked for once a parcel is delivered")])
        rma, created, errors = await return_store.create(self.db, order_id, req, delivered)
        if errors:
            raise await self._refuse(Invalid, order_id, raw, "the return request does not match the order",
                                     errors)
        stored = await return_store.get(self.db, rma)
        if created or stored is None or not stored.state:  # a start lost to a crash
            await self._start(rma, order_id, req)
        log.info("return.requested", rma=rma, order_id=order_id, created=created)
        return Opened(rma=rma, created=created)

    async def _start(self, rma: str, order_id: str, req: ReturnRequest) -> None:
        case = await return_store.case_for(self.db, rma, order_id, req)
        client = await self.temporal.client()
        with contextlib.suppress(WorkflowAlreadyStartedError):  # one workflow per RMA, ever
            await client.start_workflow("ReturnWorkflow", case, id=return_workflow_id(rma),
                                        task_queue=queues.ORDERS,
                                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)

    async def get(self, who: Principal, rma: str, permission: Permission = Permission.RETURNS_READ
                  ) -> ReturnRecord:
        require(who, permission)
        found = await return_store.get(self.read_db, rma)
        if found is None or not who.sees_order(found.order_id):
            raise NotFound(f"no return {rma}")
        return _masked(found)

    async def for_order(self, who: Principal, order_id: str) -> list[ReturnRecord]:
        require_order(who, Permission.RETURNS_READ, order_id)
        return [_masked(r) for r in await return_store.for_order(self.read_db, order_id)]

    async def review(self, who: Principal, rma: str, approval: ReturnApproval) -> ReturnState:
        """An operator approves or rejects a return the rules held (or a refund the gateway
        refused); Conflict with the reason when the return is not waiting for one. The
        reviewer is whoever signed in; the decision is in the audit trail."""
        found = await self.get(who, rma, Permission.RETURNS_REVIEW)
        approval = approval.model_copy(update={"operator": who.subject})
        client = await self.temporal.client()
        detail = {"approve": approval.approve, "reason": approval.reason, "before": found.status}
        try:
            state = await client.get_workflow_handle(return_workflow_id(rma)).execute_update(
                "review", approval, result_type=ReturnState)
        except WorkflowUpdateFailedError as exc:
            refusal = str(getattr(exc.cause, "message", exc))
            await self.audit.write(who, "return.review", rma, outcome="refused", refusal=refusal, **detail)
            raise Conflict(refusal) from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no return {rma}") from None
            raise
        await self.audit.write(who, "return.review", rma, outcome="done", after=state.status.value, **detail)
        return state
