"""Order intake from every channel: 202 once a payload is durably in the inbox, 200 with
the same ids for a duplicate, 422 naming each bad field (kept as a dead letter)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.errors import problem
from api.openapi import ref
from api.security import Caller
from channels import shopify
from domain.access import Principal, channel_principal
from domain.errors import FieldError
from domain.model import Order
from services.intake import intake_counts, require_shopify_signature

router = APIRouter()
MAX_BODY = 1_000_000
MAX_BATCH_BODY = 20_000_000
CHANNELS = ("taobao", "tmall", "jd", "erp", "text")


async def _intake(request: Request, services: ServicesDep, who: Principal, channel: str, topic: str = "",
                  raw: bytes | None = None) -> JSONResponse:
    raw = await request.body() if raw is None else raw
    ctype = request.headers.get("content-type", "")
    wanted = ("json", "text/plain") if channel == "text" else ("json",)
    if not any(k in ctype for k in wanted):
        return problem(415, f"send the payload as {' or '.join(wanted)}, not '{ctype or 'nothing'}'")
    if len(raw) > MAX_BODY:
        return problem(413, f"the body is {len(raw)} bytes; the limit is {MAX_BODY}")
    outcome = await services.intake.accept(who, channel, raw, topic)
    if outcome.status == 422:
        errors = [FieldError.model_validate(e) for e in outcome.body["errors"]]
        return problem(422, outcome.body["detail"], errors, dead_letter_id=outcome.body["dead_letter_id"])
    return JSONResponse(status_code=outcome.status, content=outcome.body)


@router.post("/v1/orders", status_code=202, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": ref(Order)}}}})
async def submit_order(request: Request, services: ServicesDep, who: Caller) -> JSONResponse:
    """Take a canonical order: 202 once it is durably in the inbox, 200 with the same ids
    for a duplicate, 422 naming each bad field (kept as a dead letter)."""
    return await _intake(request, services, who, "canonical")


@router.post("/v1/channels/shopify/orders", status_code=202)
async def shopify_order(request: Request, services: ServicesDep,
                        x_shopify_hmac_sha256: Annotated[str | None, Header()] = None,
                        x_shopify_topic: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Shopify `orders/create`, `orders/updated`, `orders/cancelled` webhooks, verified by
    X-Shopify-Hmac-Sha256 against ORDO_SHOPIFY_SECRET (401 and nothing kept otherwise)."""
    raw = await request.body()
    require_shopify_signature(raw, x_shopify_hmac_sha256, services.settings.shopify_secret)
    topic = (x_shopify_topic or "orders/create").strip()
    if topic not in shopify.TOPICS:
        return problem(400, f"topic '{topic}' is not one Ordo takes; subscribe to "
                            f"{', '.join(shopify.TOPICS)}")
    return await _intake(request, services, channel_principal("shopify"), "shopify", topic, raw)


@router.post("/v1/channels/{channel}/orders", status_code=202)
async def channel_order(channel: str, request: Request, services: ServicesDep, who: Caller) -> JSONResponse:
    """Taobao/Tmall trades, JD orders, ERP sales orders, and free-text messages
    (`text`: text/plain, or JSON {"message", "message_id"})."""
    if channel not in CHANNELS:
        return problem(404, f"no channel '{channel}': use {', '.join(CHANNELS)}, shopify (its own route) "
                            "or pos/batches")
    return await _intake(request, services, who, channel)


@router.post("/v1/channels/pos/batches")
async def pos_batch(request: Request, services: ServicesDep, who: Caller) -> JSONResponse:
    """A CSV batch from tills and scanners (format: README): the good transactions are
    accepted, each bad row is reported; 422 only when nothing could be accepted."""
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    if not any(k in ctype for k in ("csv", "text/plain", "octet-stream")):
        return problem(415, f"send the batch as text/csv, not '{ctype or 'nothing'}'")
    if len(raw) > MAX_BATCH_BODY:
        return problem(413, f"the batch is {len(raw)} bytes; the limit is {MAX_BATCH_BODY}: split it")
    outcome = await services.intake.accept_batch(who, raw)
    return JSONResponse(status_code=outcome.status, content=outcome.body)


@router.get("/v1/intake")
async def intake_summary(services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Inbox rows by state (pending: accepted, not yet started) and unresolved dead letters."""
    return await intake_counts(who, services.read_db)
