"""Returns over HTTP: ask for one, follow it, and let an operator review it.

`POST /v1/orders/{order_id}/returns` checks the request against what the order delivered and
what other returns already claim, keeps a refused request (with each field's reason) as a
dead letter, and starts one ReturnWorkflow per RMA; the same `request_id` again answers with
the first RMA. The warehouse's graded receipt arrives as Qimen `returnorder.confirm` (see
`api.wms`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import problem
from config import queues
from config.settings import Settings
from domain.errors import FieldError, field_path
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
        db = request.app.state.db
        row = await order_store.get_order(db, order_id)
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
