"""Returns over HTTP: ask for one (`POST /v1/orders/{order_id}/returns`, or a channel's own
return request), follow it, and let an operator review it. The warehouse's graded receipt
arrives as Qimen `returnorder.confirm` (see `api.routes.wms`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.openapi import ref
from api.security import Caller, authenticate
from domain.access import channel_principal
from domain.returns import ReturnApproval, ReturnRequest
from services.intake import require_shopify_signature
from services.returns import Opened

router = APIRouter()


def _opened(opened: Opened) -> JSONResponse:
    body = {"rma": opened.rma, "created": opened.created, "status_url": f"/v1/returns/{opened.rma}"}
    return JSONResponse(body, status_code=202 if opened.created else 200)


@router.post("/v1/orders/{order_id}/returns", status_code=202, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": ref(ReturnRequest)}}}})
async def request_return(order_id: str, request: Request, services: ServicesDep, who: Caller) -> JSONResponse:
    """202 with a new RMA, 200 with the first one for the same `request_id`, 422/409 naming
    what is wrong (the request is kept as a dead letter)."""
    return _opened(await services.returns.request(who, order_id, await request.body()))


@router.post("/v1/channels/{channel}/returns", status_code=202)
async def channel_return(channel: str, request: Request, services: ServicesDep,
                         x_shopify_hmac_sha256: Annotated[str | None, Header()] = None) -> JSONResponse:
    """A return asked for on the channel: Shopify's `returns/request` webhook (verified
    like its order webhooks), or Taobao/Tmall's `taobao.refund.get` for a refund with goods
    coming back. The channel's refund or return id is the request id, so a redelivery is
    the same return."""
    raw = await request.body()
    if channel == "shopify":
        require_shopify_signature(raw, x_shopify_hmac_sha256, services.settings.shopify_secret)
        who = channel_principal("shopify")
    else:  # Taobao/Tmall's refund records are relayed by an ERP job or a script with an API key
        who = await authenticate(request, services)
    return _opened(await services.returns.from_channel(who, channel, raw))


@router.get("/v1/returns/{rma}")
async def get_return(rma: str, services: ServicesDep, who: Caller) -> dict[str, Any]:
    return (await services.returns.get(who, rma)).model_dump(mode="json")


@router.get("/v1/orders/{order_id}/returns")
async def order_returns(order_id: str, services: ServicesDep, who: Caller) -> dict[str, Any]:
    return {"returns": [r.model_dump(mode="json") for r in await services.returns.for_order(who, order_id)]}


@router.post("/v1/returns/{rma}/review")
async def review(rma: str, body: ReturnApproval, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """An operator approves or rejects a return the rules held (or a refund the gateway
    refused); 409 with the reason when the return is not waiting for one."""
    return (await services.returns.review(who, rma, body)).model_dump(mode="json")
