"""Payment activities against an Alipay-style gateway.

Authorise freezes the amount (no money moves), capture turns the authorisation into a trade,
void unfreezes it. Every call carries an out_*_no derived from the order id, which the
gateway de-duplicates, so a retried activity never charges twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from temporalio import activity

from activities.contracts import payments as contract
from activities.errors import business_failure
from config.settings import Settings
from domain.exceptions import ExceptionKind
from domain.messages import PaymentRequest, PaymentResult, RefundRequest, RefundResult
from domain.wire import alipay

REFUSED = ExceptionKind.PAYMENT_DECLINED  # how this system says no: routed by the exception rules


class PaymentActivities:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def _call(self, method: str, biz: dict[str, Any]) -> dict[str, Any]:
        params = {"app_id": self.settings.alipay_app_id, "method": method, "charset": "utf-8",
                  "sign_type": "HMAC-SHA256", "version": "1.0",
                  "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                  "biz_content": json.dumps(biz, ensure_ascii=False)}
        params["sign"] = alipay.sign(params, self.settings.alipay_secret)
        resp = await self.http.post(f"{self.settings.payments_url}/gateway.do", data=params)
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()[alipay.response_key(method)]
        if body.get("code") == "40002":
            raise RuntimeError(f"payment gateway refused the request: {body.get('sub_msg')}")
        return body

    @activity.defn(name=contract.AUTHORISE.name)
    async def authorise(self, req: PaymentRequest) -> PaymentResult:
        body = await self._call("alipay.fund.auth.order.freeze", {
            "out_order_no": req.order_id, "out_request_no": f"{req.order_id}-auth",
            "amount": str(req.amount), "payer_user_id": req.payer_id,
            "order_title": f"Ordo order {req.order_id}", "product_code": "PRE_AUTH"})
        if body["code"] != alipay.SUCCESS:
            raise business_failure(REFUSED,
                                   f"payment declined: {body.get('sub_code')} {body.get('sub_msg')}")
        return PaymentResult(order_id=req.order_id, reference=body["auth_no"],
                             amount=req.amount, state="authorised")

    @activity.defn(name=contract.CAPTURE.name)
    async def capture(self, req: PaymentResult) -> PaymentResult:
        body = await self._call("alipay.trade.pay", {
            "out_trade_no": req.order_id, "auth_no": req.reference, "total_amount": str(req.amount),
            "product_code": "PRE_AUTH", "auth_confirm_mode": "COMPLETE",
            "subject": f"Ordo order {req.order_id}"})
        if body["code"] != alipay.SUCCESS:
            raise business_failure(REFUSED, f"capture failed: {body.get('sub_msg')}")
        return PaymentResult(order_id=req.order_id, reference=body["trade_no"],
                             amount=req.amount, state="captured")

    @activity.defn(name=contract.VOID.name)
    async def void(self, req: PaymentResult) -> PaymentResult:
        body = await self._call("alipay.fund.auth.order.unfreeze", {
            "auth_no": req.reference, "out_request_no": f"{req.order_id}-void",
            "amount": str(req.amount), "remark": "order cancelled"})
        if body["code"] != alipay.SUCCESS:
            raise business_failure(REFUSED, f"void failed: {body.get('sub_msg')}")
        return PaymentResult(order_id=req.order_id, reference=req.reference,
                             amount=req.amount, state="voided")

    @activity.defn(name=contract.REFUND.name)
    async def refund(self, req: RefundRequest) -> RefundResult:
        """`alipay.trade.refund` with `out_request_no` = the refund number: the gateway pays a
        number once, so a retried or repeated refund answers with the first."""
        body = await self._call("alipay.trade.refund", {
            "out_trade_no": req.order_id, "refund_amount": str(req.amount),
            "out_request_no": req.refund_no, "refund_reason": req.reason[:256]})
        if body["code"] != alipay.SUCCESS:
            raise business_failure(REFUSED,
                                   f"refund refused: {body.get('sub_code')} {body.get('sub_msg')}")
        return RefundResult(refund_no=req.refund_no, amount=Decimal(body["send_back_fee"]),
                            refunded_total=Decimal(body["refund_fee"]), reason=req.reason)
