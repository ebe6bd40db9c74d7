"""Ordo's HTTP API: order intake, order status, operator actions and carrier pushes.

Operator actions are Temporal Updates: the workflow's validator decides, and a refusal
comes back as 409 with its reason before anything was written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import Body, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.carriers import router as carriers_router
from api.dispatcher import start_order
from api.errors import problem, request_validation_handler
from api.intake import IntakeService
from api.privacy import for_role
from api.returns import router as returns_router
from api.wms import router as wms_router
from channels import shopify
from config.logs import configure_logging
from config.settings import Settings, get_settings
from config.temporal import connect
from domain.errors import FieldError
from domain.messages import AddressChange, OperatorNote, OrderState
from domain.model import Address, Order, workflow_id_for
from domain.wire import alipay
from store import decisions as decision_store
from store import inbox as inbox_store
from store import orders as order_store
from store.db import make_engine
from workflows.order import OrderWorkflow

log = structlog.get_logger()
MAX_BODY = 1_000_000
MAX_BATCH_BODY = 20_000_000
QUERY_TIMEOUT = timedelta(seconds=3)
UPDATE_TIMEOUT = timedelta(seconds=20)
_NO_ANSWER = (f"no orders worker answered within {UPDATE_TIMEOUT.seconds}s (down, or busy with a backlog); "
              "check `worker.py --queue orders` is running, then retry")


def _timed_out(exc: RPCError) -> bool:
    """A client-side rpc_timeout surfaces as DEADLINE_EXCEEDED or CANCELLED, 'Timeout expired'."""
    return exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED) or \
        "timeout" in exc.message.lower()


class _Temporal:
    """Connect on first use, so the API can start before Temporal and recover after it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                self._client = await connect(self.settings)
            return self._client


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = make_engine(settings.effective_database_url)
        app.state.read_db = make_engine(settings.effective_database_url, readonly=True)
        app.state.temporal = _Temporal(settings)
        writer = inbox_store.InboxWriter(app.state.db)
        writer.start()
        app.state.intake = IntakeService(app.state.db, writer)
        yield
        await writer.stop()
        await app.state.db.dispose()
        await app.state.read_db.dispose()

    app = FastAPI(title="Ordo", version="0.1.0", lifespan=lifespan,
                  description="Automatic multi-channel order management.")
    app.add_exception_handler(RequestValidationError, request_validation_handler)

    @app.exception_handler(RPCError)
    async def _temporal_down(_: Request, exc: RPCError) -> JSONResponse:
        return problem(503, f"Temporal is unavailable ({exc.message}); retry shortly")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/orders", status_code=202, openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": Order.model_json_schema(
            ref_template="#/components/schemas/{model}")}}}})
    async def submit_order(request: Request) -> JSONResponse:
        """Take a canonical order: 202 once it is durably in the inbox, 200 with the same ids
        for a duplicate, 422 naming each bad field (kept as a dead letter)."""
        return await _intake(request, "canonical")

    @app.post("/v1/channels/shopify/orders", status_code=202)
    async def shopify_order(request: Request,
                            x_shopify_hmac_sha256: Annotated[str | None, Header()] = None,
                            x_shopify_topic: Annotated[str | None, Header()] = None) -> JSONResponse:
        """Shopify `orders/create`, `orders/updated`, `orders/cancelled` webhooks, verified by
        X-Shopify-Hmac-Sha256 against ORDO_SHOPIFY_SECRET (401 and nothing kept otherwise)."""
        raw = await request.body()
        if not shopify.verify(raw, x_shopify_hmac_sha256, settings.shopify_secret):
            return problem(401, "X-Shopify-Hmac-Sha256 does not match the body: check the app secret "
                                "(ORDO_SHOPIFY_SECRET); nothing was processed")
        topic = (x_shopify_topic or "orders/create").strip()
        if topic not in shopify.TOPICS:
            return problem(400, f"topic '{topic}' is not one Ordo takes; subscribe to "
                                f"{', '.join(shopify.TOPICS)}")
        return await _intake(request, "shopify", topic, raw)

    @app.post("/v1/channels/{channel}/orders", status_code=202)
    async def channel_order(channel: str, request: Request) -> JSONResponse:
        """Taobao/Tmall trades, JD orders, ERP sales orders, and free-text messages
        (`text`: text/plain, or JSON {"message", "message_id"})."""
        if channel not in ("taobao", "tmall", "jd", "erp", "text"):
            return problem(404, f"no channel '{channel}': use taobao, tmall, jd, erp, text, "
                                "shopify (its own route) or pos/batches")
        return await _intake(request, channel)

    @app.post("/v1/channels/pos/batches")
    async def pos_batch(request: Request) -> JSONResponse:
        """A CSV batch from tills and scanners (format: README): the good transactions are
        accepted, each bad row is reported; 422 only when nothing could be accepted."""
        raw = await request.body()
        ctype = request.headers.get("content-type", "")
        if not any(k in ctype for k in ("csv", "text/plain", "octet-stream")):
            return problem(415, f"send the batch as text/csv, not '{ctype or 'nothing'}'")
        if len(raw) > MAX_BATCH_BODY:
            return problem(413, f"the batch is {len(raw)} bytes; the limit is {MAX_BATCH_BODY}: split it")
        outcome = await request.app.state.intake.accept_batch(raw)
        return JSONResponse(status_code=outcome.status, content=outcome.body)

    @app.get("/v1/intake")
    async def intake_counts(request: Request) -> dict[str, Any]:
        """Inbox rows by state (pending: accepted, not yet started) and unresolved dead letters."""
        return {"inbox": await inbox_store.counts(request.app.state.read_db),
                "dead_letters": len(await inbox_store.dead_letters(request.app.state.read_db, limit=10_000))}

    async def _intake(request: Request, channel: str, topic: str = "",
                      raw: bytes | None = None) -> JSONResponse:
        raw = await request.body() if raw is None else raw
        ctype = request.headers.get("content-type", "")
        wanted = ("json", "text/plain") if channel == "text" else ("json",)
        if not any(k in ctype for k in wanted):
            return problem(415, f"send the payload as {' or '.join(wanted)}, not '{ctype or 'nothing'}'")
        if len(raw) > MAX_BODY:
            return problem(413, f"the body is {len(raw)} bytes; the limit is {MAX_BODY}")
        outcome = await request.app.state.intake.accept(channel, raw, topic)
        if outcome.status == 422:
            errors = [FieldError.model_validate(e) for e in outcome.body["errors"]]
            return problem(422, outcome.body["detail"], errors, dead_letter_id=outcome.body["dead_letter_id"])
        return JSONResponse(status_code=outcome.status, content=outcome.body)

    @app.get("/v1/orders/{order_id}")
    async def get_order(order_id: str, request: Request,
                        x_ordo_role: Annotated[str | None, Header()] = None) -> JSONResponse:
        """The order, its live workflow state (status, shipments, decisions) and history."""
        row = await order_store.get_order(request.app.state.read_db, order_id)
        live: dict[str, Any] | None = None
        unanswered = False
        client = await request.app.state.temporal.client()
        try:
            state: OrderState = await client.get_workflow_handle(workflow_id_for(order_id)).query(
                OrderWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
            live = state.model_dump(mode="json")
        except RPCError as exc:
            # NOT_FOUND: retention has passed; DEADLINE_EXCEEDED: no orders worker is polling
            # right now (a query needs one). Either way the stored record still answers.
            unanswered = _timed_out(exc)
            if exc.status != RPCStatusCode.NOT_FOUND and not unanswered:
                raise
            log.warning("order.query_unavailable", order_id=order_id, reason=exc.message)
        if row is None and live is None:
            waiting = [r for r in await inbox_store.for_order(request.app.state.read_db, order_id)
                       if r["kind"] == "order"]
            if waiting:  # accepted, the dispatcher has not started it yet
                return JSONResponse(for_role(x_ordo_role, {
                    "order_id": order_id, "workflow_id": workflow_id_for(order_id), "status": "accepted",
                    "order": waiting[0]["canonical"], "record": {}, "workflow": None, "live": False,
                    "inbox": {"id": waiting[0]["id"], "state": waiting[0]["state"]}}))
        if row is None and live is None and not unanswered:
            return problem(404, f"no order '{order_id}'; order ids look like <channel>-<external id>")
        stored = json.loads(json.dumps(row, default=str)) if row else {}
        payload = stored.pop("payload", None)
        body = {"order_id": order_id, "workflow_id": workflow_id_for(order_id),
                "status": (live or stored).get("status", "received"), "order": payload,
                "record": stored, "workflow": live, "live": live is not None}
        return JSONResponse(for_role(x_ordo_role, body))

    async def _update_just_started(handle: Any, name: str, arg: Any) -> Any:
        for attempt in range(6):
            try:
                return await handle.execute_update(name, arg, rpc_timeout=UPDATE_TIMEOUT)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND or attempt == 5:
                    raise
                await asyncio.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")

    async def _update(request: Request, order_id: str, name: str, arg: Any) -> JSONResponse:
        client = await request.app.state.temporal.client()
        handle = client.get_workflow_handle(workflow_id_for(order_id))
        try:
            try:
                result = await handle.execute_update(name, arg, rpc_timeout=UPDATE_TIMEOUT)
            except RPCError as exc:
                accepted = [r for r in await inbox_store.for_order(request.app.state.db, order_id)
                            if r["kind"] == "order"]
                if exc.status != RPCStatusCode.NOT_FOUND or not accepted:
                    raise
                # accepted moments ago: start it now if the dispatcher has not (a second start
                # is a no-op), then act on it; a workflow started an instant ago can still
                # answer NOT_FOUND (seen in CI), so try a few times
                await start_order(client, accepted[0]["canonical"])
                result = await _update_just_started(handle, name, arg)
        except WorkflowUpdateFailedError as exc:
            reason = getattr(exc.cause, "message", None) or str(exc)
            return problem(409, reason, order_id=order_id, action=name)
        except RPCTimeoutOrCancelledError:  # the SDK's form of the update's rpc_timeout
            return problem(503, _NO_ANSWER, order_id=order_id, action=name)
        except RPCError as exc:
            if _timed_out(exc):
                return problem(503, _NO_ANSWER, order_id=order_id, action=name)
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            row = await order_store.get_order(request.app.state.db, order_id)
            if row is None:
                return problem(404, f"no order '{order_id}'; order ids look like <channel>-<external id>")
            return problem(409, f"cannot {name}: the order is already {row['status']}",
                           order_id=order_id, action=name)
        return JSONResponse(result if isinstance(result, dict) else json.loads(
            json.dumps(result, default=str)))

    for action in ("cancel", "hold", "release"):
        def make(name: str) -> Any:
            async def act(order_id: str, request: Request,
                          note: Annotated[OperatorNote | None, Body()] = None) -> JSONResponse:
                return await _update(request, order_id, name, note or OperatorNote())
            act.__name__ = f"{name}_order"
            act.__doc__ = f"Operator action `{name}` (a Temporal Update; 409 with the reason if refused)."
            return act
        app.post(f"/v1/orders/{{order_id}}/{action}")(make(action))

    @app.post("/v1/orders/{order_id}/paid")
    async def order_paid(order_id: str, request: Request,
                         note: Annotated[OperatorNote | None, Body()] = None) -> JSONResponse:
        """The customer paid an order that came in `payment.status: awaiting` (a bank transfer
        arrived, a pay-later was settled): its held stock is kept and the order carries on."""
        return await _update(request, order_id, "payment_received", note or OperatorNote())

    @app.post("/v1/orders/{order_id}/address")
    async def change_address(order_id: str, address: Address, request: Request) -> JSONResponse:
        """Change the shipping address until the order ships."""
        return await _update(request, order_id, "change_address", AddressChange(address=address))

    @app.post("/v1/payments/alipay/notify", response_class=PlainTextResponse)
    async def alipay_notify(request: Request) -> PlainTextResponse:
        """Alipay-style async notification: verified, stored once, answered `success`
        (anything else makes the gateway send it again)."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not alipay.verify(form, settings.alipay_secret):
            log.warning("payment.notify_rejected", reason="bad signature")
            return PlainTextResponse("fail", status_code=400)
        missing = [k for k in ("notify_id", "out_trade_no", "trade_status") if not form.get(k)]
        if missing:
            return PlainTextResponse(f"fail: missing {', '.join(missing)}", status_code=400)
        new = await order_store.record_payment_notification(request.app.state.db, form)
        log.info("payment.notified", order_id=form["out_trade_no"], status=form["trade_status"],
                 duplicate=not new)
        return PlainTextResponse("success")

    @app.get("/v1/orders")
    async def order_counts(request: Request) -> dict[str, Any]:
        """Orders by status, for dashboards."""
        return {"by_status": await order_store.counts_by_status(request.app.state.read_db)}

    app.include_router(wms_router(settings))
    app.include_router(carriers_router(settings))
    app.include_router(returns_router(settings))

    @app.get("/v1/rules/versions")
    async def rule_versions(request: Request, ruleset: str | None = None, limit: int = 100,
                            content: bool = False) -> dict[str, Any]:
        """The append-only rule-change log, newest first: each rule set version that went
        live, who loaded it, when, and what changed. `content=true` adds the rule text."""
        rows = await decision_store.list_versions(request.app.state.read_db, ruleset,
                                                  max(1, min(limit, 1000)))
        return {"versions": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()
             if k != "id" and (content or k != "content")} for row in rows]}

    return app


def main() -> None:
    """Run the API with uvicorn (used by `ordo up` as a child process)."""
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, component="api")
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_level="warning")


if __name__ == "__main__":
    main()
