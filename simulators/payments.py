"""An Alipay-shaped payment gateway: pre-authorisation (freeze), capture (trade.pay with the
auth), void (unfreeze) and refund, each idempotent by its out_*_no, like the real one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI, Request

from config.settings import get_settings
from domain.wire import alipay
from simulators.faults import Faults
from simulators.outbound import Outbound
from simulators.state import SimState, state_dir

DECLINE_ABOVE = Decimal("50000")


def create_app(faults: Faults | None = None, notify_url: str | None = None,
               state: SimState | None = None) -> FastAPI:
    """`notify_url`: where to send Alipay-style async notifications after a capture
    (empty: none; default `ORDO_SIM_NOTIFY_URL`). `state`: where the ledger is kept (default:
    `ORDO_SIM_STATE_DIR`, else memory)."""
    settings = get_settings()
    secret = settings.alipay_secret
    outbound = Outbound(timeout=5)

    @contextlib.asynccontextmanager
    async def close_outbound(_: FastAPI) -> AsyncIterator[None]:
        yield
        await outbound.aclose()

    app = FastAPI(title="Ordo payment gateway simulator (Alipay-style)", lifespan=close_outbound)
    faults = faults or Faults()
    faults.install(app)
    state = state or SimState("payments", state_dir())
    auths = state.records("auths")          # out_request_no -> freeze
    trades = state.records("trades")        # out_trade_no -> capture
    unfreezes = state.records("unfreezes")
    refunds = state.records("refunds")
    ids = state.counter("ids", 1)
    notify_url = notify_url if notify_url is not None else os.environ.get("ORDO_SIM_NOTIFY_URL", "")
    pending: set[asyncio.Task[None]] = set()

    async def notify(out_trade_no: str, trade: dict[str, Any]) -> None:
        """Like Alipay: a signed form POST, repeated until the merchant answers `success`."""
        form = {"notify_time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "notify_type": "trade_status_sync", "notify_id": uuid.uuid4().hex,
                "app_id": settings.alipay_app_id, "charset": "utf-8", "version": "1.0",
                "sign_type": "HMAC-SHA256", "trade_no": trade["trade_no"],
                "out_trade_no": out_trade_no, "trade_status": trade["trade_status"],
                "total_amount": trade["total_amount"]}
        form["sign"] = alipay.sign(form, secret)
        for attempt in range(10):
            with contextlib.suppress(httpx.HTTPError):
                r = await outbound.client.post(notify_url, data=form)
                if r.text.strip() == "success":
                    return
            await asyncio.sleep(0.2 * (attempt + 1))

    def answer(method: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = {alipay.response_key(method): body}
        return {**payload, "sign": alipay.sign({"body": json.dumps(body, sort_keys=True)}, secret)}

    def fail(method: str, sub_code: str, sub_msg: str) -> dict[str, Any]:
        return answer(method, {"code": alipay.BUSINESS_FAILED, "msg": "Business Failed",
                               "sub_code": sub_code, "sub_msg": sub_msg})

    def authorisation(auth_no: str | None) -> tuple[str, dict[str, Any]] | tuple[None, None]:
        return next(((k, a) for k, a in auths.items() if a["auth_no"] == auth_no), (None, None))

    @app.post("/gateway.do")
    async def gateway(request: Request) -> dict[str, Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        method = form.get("method", "")
        if not alipay.verify(form, secret):
            return answer(method, {"code": "40002", "msg": "Invalid Arguments",
                                   "sub_code": "isv.invalid-signature", "sub_msg": "bad sign"})
        faults.maybe_fail("before")
        biz = json.loads(form.get("biz_content", "{}"))
        ok = {"code": alipay.SUCCESS, "msg": "Success"}
        if method == "alipay.fund.auth.order.freeze":
            key = biz["out_request_no"]
            if key not in auths:
                amount = Decimal(biz["amount"])
                if "decline" in biz.get("payer_user_id", "") or amount > DECLINE_ABOVE:
                    return fail(method, "ACQ.BUYER_BALANCE_NOT_ENOUGH", "insufficient balance")
                auths[key] = {"auth_no": f"2026{next(ids):012d}", "amount": str(amount),
                              "out_order_no": biz["out_order_no"], "status": "SUCCESS"}
            faults.maybe_fail("after")
            a = auths[key]
            return answer(method, {**ok, "auth_no": a["auth_no"], "out_order_no": a["out_order_no"],
                                   "out_request_no": key, "amount": a["amount"], "status": a["status"]})
        if method == "alipay.trade.pay":
            key = biz["out_trade_no"]
            auth_key, auth = authorisation(biz.get("auth_no"))
            if key not in trades and (auth is None or auth["status"] != "SUCCESS"):
                return fail(method, "ACQ.TRADE_NOT_EXIST", "no live authorisation")
            if key not in trades and auth is not None:
                trades[key] = {"trade_no": f"2026{next(ids):016d}", "total_amount": biz["total_amount"],
                               "trade_status": "TRADE_SUCCESS"}
                auth["status"] = "CAPTURED"
                auths.save(auth_key)
                if notify_url:
                    task = asyncio.create_task(notify(key, trades[key]))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
            faults.maybe_fail("after")
            return answer(method, {**ok, "out_trade_no": key, **trades[key]})
        if method == "alipay.fund.auth.order.unfreeze":
            key = biz["out_request_no"]
            auth_key, auth = authorisation(biz.get("auth_no"))
            if key not in unfreezes:
                if auth is None:
                    return fail(method, "AUTH_ORDER_NOT_EXIST", "no such authorisation")
                if auth["status"] == "CAPTURED":
                    return fail(method, "AUTH_ORDER_ALREADY_CAPTURED", "captured: refund instead")
                auth["status"] = "UNFROZEN"
                auths.save(auth_key)
                unfreezes[key] = {"auth_no": auth["auth_no"], "amount": biz["amount"]}
            return answer(method, {**ok, **unfreezes[key], "status": "SUCCESS"})
        if method == "alipay.trade.refund":
            key = biz["out_request_no"]
            trade = trades.get(biz.get("out_trade_no", ""))
            if key in refunds:  # a repeat: the first answer again, and no money moves
                faults.maybe_fail("after")
                return answer(method, {**ok, **refunds[key], "fund_change": "N"})
            if trade is None:
                return fail(method, "ACQ.TRADE_NOT_EXIST", "no such trade")
            amount = Decimal(biz["refund_amount"])
            done = sum((Decimal(r["send_back_fee"]) for r in refunds.values()
                        if r["out_trade_no"] == biz["out_trade_no"]), Decimal(0))
            if amount <= 0 or done + amount > Decimal(trade["total_amount"]):
                return fail(method, "ACQ.REFUND_FEE_ERROR",
                            f"refund {amount} exceeds what is left ({Decimal(trade['total_amount']) - done})")
            refunds[key] = {"out_trade_no": biz["out_trade_no"], "trade_no": trade["trade_no"],
                            "send_back_fee": str(amount), "refund_fee": str(done + amount)}
            if done + amount == Decimal(trade["total_amount"]):
                trade["trade_status"] = "TRADE_CLOSED"
                trades.save(biz["out_trade_no"])
            faults.maybe_fail("after")
            return answer(method, {**ok, **refunds[key], "fund_change": "Y"})
        return fail(method, "isv.invalid-method", f"unknown method {method}")

    @app.get("/admin/ledger")
    async def ledger() -> dict[str, Any]:
        return {"auths": auths, "trades": trades, "unfreezes": unfreezes, "refunds": refunds,
                "faults_injected": faults.injected}

    return app


app = create_app()
