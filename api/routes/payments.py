"""The payment gateway's asynchronous notifications."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.deps import ServicesDep
from domain.wire import alipay

router = APIRouter()
log = structlog.get_logger()


@router.post("/v1/payments/alipay/notify", response_class=PlainTextResponse)
async def alipay_notify(request: Request, services: ServicesDep) -> PlainTextResponse:
    """Alipay-style async notification: verified, stored once, answered `success`
    (anything else makes the gateway send it again)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not alipay.verify(form, services.settings.alipay_secret):
        log.warning("payment.notify_rejected", reason="bad signature")
        return PlainTextResponse("fail", status_code=400)
    missing = [k for k in ("notify_id", "out_trade_no", "trade_status") if not form.get(k)]
    if missing:
        return PlainTextResponse(f"fail: missing {', '.join(missing)}", status_code=400)
    await services.orders.payment_notified(form)
    return PlainTextResponse("success")
