"""Returns over HTTP: ask for one, follow it, and let an operator review it.

`POST /v1/orders/{order_id}/returns` (or a channel's own return request, `POST
/v1/channels/{shopify|taobao|tmall}/returns`) checks the request against what the order delivered and
what other returns already claim, keeps a refused request (with each field's reason) as a
dead letter, and starts one ReturnWorkflow per RMA; the same `request_id` again answers with
the first RMA. The warehouse's graded receipt arrives as Qimen `returnorder.confirm` (see
`api.wms`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import problem
from channels import returns as channel_returns
from channels import shopify
from channels.base import PayloadError
from config import queues
from config.settings import Settings
from domain.errors import FieldError, field_path
from domain.model import Order
from domain.returns import ReturnApproval, ReturnRequest, ReturnState
from store import inbox as inbox_store
from store import orders as order_store
from store import returns as return_store
from workflows.returns import return_workflow_id

log = structlog.get_logger()


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def router(settings: Settings) -> APIRouter:
    api = APIRouter()

    async def refuse(
        request: Request, order_id: str, raw: bytes, status: int, message: str, errors: list[FieldError]
    ) -> JSONResponse:
        dl = await inbox_store.add_dead_letter(
            request.app.state.db, "returns", raw.decode("utf-8", "replace"), errors, topic=order_id
        )
        log.warning("return.refused", order_id=order_id, dead_letter_id=dl, errors=len(errors))
        return problem(status, message, errors, dead_letter_id=dl)

    @api.post("/v1/orders/{order_id}/returns", status_code=202)
    async def request_return(order_id: str, request: Request) -> JSONResponse:
        raw = await request.body()
        row = await order_store.get_order(request.app.state.db, order_id)
        if row is None:
            return problem(404, f"no order {order_id}; check the id (GET /v1/orders/{{id}})")
        try:
            req = ReturnRequest.model_validate_json(raw)
        except ValidationError as exc:
            errors = [
                FieldError(
                    field=field_path(tuple(e["loc"])) or "body",
                    reason=str(e["msg"]).removeprefix("Value error, "),
                )
                for e in exc.errors()
            ]
            return await refuse(request, order_id, raw, 422, "the return request is not valid", errors)
        return await open_return(request, order_id, row, raw, req)

    @api.post("/v1/channels/{channel}/returns", status_code=202)
    async def channel_return(
        channel: str, request: Request, x_shopify_hmac_sha256: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        """A return asked for on the channel: Shopify's `returns/request` webhook (verified
        like its order webhooks), or Taobao/Tmall's `taobao.refund.get` for a refund with goods
        coming back. The channel's refund or return id is the request id, so a redelivery is
        the same return."""
        raw = await request.body()
        if channel == "shopify":
            if not shopify.verify(raw, x_shopify_hmac_sha256, settings.shopify_secret):
                return problem(401, "X-Shopify-Hmac-Sha256 does not match the body: check the app "
                                    "secret (ORDO_SHOPIFY_SECRET); nothing was processed")
        elif channel not in ("taobao", "tmall"):
            return problem(404, f"no channel '{channel}' for returns: use shopify, taobao or tmall "
                                "(or POST /v1/orders/{id}/returns)")
        try:
            asked = (channel_returns.read_shopify(raw) if channel == "shopify"
                     else channel_returns.read_taobao(raw, channel))
        except PayloadError as exc:
            return await refuse(request, channel, raw, 422, f"the {channel} return is not valid", exc.errors)
        row = await order_store.get_order(request.app.state.db, asked.order_id)
        if row is None:
            return await refuse(request, asked.order_id, raw, 404, f"no order {asked.order_id}", [
                FieldError(field="order", reason=f"{asked.order_id} never reached Ordo; the request "
                           "is kept as a dead letter: send it again once the order is in")])
        try:
            req = channel_returns.to_request(asked, Order.model_validate(row["payload"]))
        except PayloadError as exc:
            return await refuse(request, asked.order_id, raw, 422,
                                "the return names lines the order does not have", exc.errors)
        return await open_return(request, asked.order_id, row, raw, req)

    async def open_return(
        request: Request, order_id: str, row: dict[str, Any], raw: bytes, req: ReturnRequest
    ) -> JSONResponse:
        """Check the request against what was delivered, record the RMA, start its workflow."""
        db = request.app.state.db
        if not req.request_id:
            canonical = json.dumps(req.model_dump(mode="json"), sort_keys=True)
            req.request_id = "h-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
        delivered, _, _ = await return_store.delivered_units(db, order_id)
        if not delivered:
            return await refuse(
                request,
                order_id,
                raw,
                409,
                "nothing on this order has been delivered yet",
                [
                    FieldError(
                        field="order_id",
                        reason=f"order {order_id} is {row['status']}; a return can be "
                        "asked for once a parcel is delivered",
                    )
                ],
            )
        rma, created, errors = await return_store.create(db, order_id, req, delivered)
        if errors:
            return await refuse(
                request, order_id, raw, 422, "the return request does not match the order", errors
            )
        if created or not (await return_store.get(db, rma) or {}).get("state"):  # a start lost to a crash
            await _start(request, rma, order_id, req)
        log.info("return.requested", rma=rma, order_id=order_id, created=created)
        return JSONResponse(
            {"rma": rma, "created": created, "status_url": f"/v1/returns/{rma}"},
            status_code=202 if created else 200,
        )

    async def _start(request: Request, rma: str, order_id: str, req: ReturnRequest) -> None:
        case = await return_store.case_for(request.app.state.db, rma, order_id, req)
        client = await request.app.state.temporal.client()
        with contextlib.suppress(WorkflowAlreadyStartedError):  # one workflow per RMA, ever
            await client.start_workflow(
                "ReturnWorkflow",
                case,
                id=return_workflow_id(rma),
                task_queue=queues.ORDERS,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )

    @api.get("/v1/returns/{rma}")
    async def get_return(rma: str, request: Request) -> JSONResponse:
        found = await return_store.get(request.app.state.read_db, rma)
        if found is None:
            return problem(404, f"no return {rma}")
        return JSONResponse(_jsonable(found))

    @api.get("/v1/orders/{order_id}/returns")
    async def order_returns(order_id: str, request: Request) -> dict[str, Any]:
        return {
            "returns": [
                _jsonable(r) for r in await return_store.for_order(request.app.state.read_db, order_id)
            ]
        }

    @api.post("/v1/returns/{rma}/review")
    async def review(rma: str, body: ReturnApproval, request: Request) -> JSONResponse:
        """An operator approves or rejects a return the rules held (or a refund the gateway
        refused); 409 with the reason when the return is not waiting for one."""
        client = await request.app.state.temporal.client()
        handle = client.get_workflow_handle(return_workflow_id(rma))
        try:
            state = await handle.execute_update("review", body, result_type=ReturnState)
        except WorkflowUpdateFailedError as exc:
            return problem(409, str(getattr(exc.cause, "message", exc)))
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return problem(404, f"no return {rma}")
            raise
        return JSONResponse(state.model_dump(mode="json"))

    return api
