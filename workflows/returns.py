"""ReturnWorkflow: one return request (RMA) from the customer's ask to the money back or a
replacement on its way.

Decide each line by the returns rules (approve, reject, or an operator reviews) -> book a
return label with the carrier the carrier rules pick (direction `return`) among those that
take it, and tell the warehouse what to expect -> wait for the warehouse's graded receipt
(or close the return when nothing comes back in time) -> book what came back through the
ledger (sellable units on hand, defective ones apart) -> ask the rules what share of each
line's value is refunded after inspection -> refund through the payment gateway under the
RMA as refund number (paid once however often it is retried), or start a linked,
already-paid replacement order. Lines the rules let the customer keep are refunded without
a label.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import payments, store, wms
    from activities.contracts import returns as returns_db
    from config import queues
    from domain.exceptions import ExceptionKind
    from domain.facts import parcel_facts
    from domain.messages import (
        DecisionRequest,
        ParcelLine,
        Quote,
        RefundRequest,
        Shipment,
        Waybill,
        WaybillRequest,
    )
    from domain.money import quantize, to_minor
    from domain.refunds import parcel_value
    from domain.returns import (
        ReturnApproval,
        ReturnCase,
        ReturnedUnits,
        ReturnLineState,
        ReturnOrderRequest,
        ReturnReceipt,
        ReturnState,
        ReturnStatus,
        replacement_order,
    )
    from domain.rulesets import ReturnOutcome
    from workflows.calls import run
    from workflows.carrier_booking import book_carrier
    from workflows.failures import business_failure
    from workflows.order import OrderWorkflow


@workflow.defn
class ReturnWorkflow:
    @workflow.init
    def __init__(self, case: ReturnCase) -> None:
        self.state = ReturnState(
            rma=case.rma,
            order_id=case.order.order_id,
            resolution=case.request.resolution,
            lines=[
                ReturnLineState(sku=ln.sku, quantity=ln.quantity, reason=ln.reason)
                for ln in case.request.lines
            ],
        )
        self.receipt: ReturnReceipt | None = None
        self.approval: ReturnApproval | None = None
        self.outcomes: dict[str, ReturnOutcome] = {}

    @workflow.query(name="status")
    def status(self) -> ReturnState:
        return self.state

    @workflow.signal(name="received")
    def received(self, receipt: ReturnReceipt) -> None:
        if self.receipt is None:  # the WMS re-sends an unanswered confirmation: the first counts
            self.receipt = receipt

    @workflow.update(name="review")
    async def review(self, approval: ReturnApproval) -> ReturnState:
        self.approval = approval
        await workflow.wait_condition(lambda: self.state.status != ReturnStatus.AWAITING_OPERATOR)
        return self.state

    @review.validator
    def _validate_review(self, approval: ReturnApproval) -> None:
        if self.state.status != ReturnStatus.AWAITING_OPERATOR:
            raise ValueError(
                f"cannot review: return {self.state.rma} is {self.state.status.value}, "
                "not waiting for an operator"
            )

    async def _save(self, status: ReturnStatus | None = None, note: str = "") -> None:
        if status is not None:
            self.state.status = status
        if note:
            self.state.notes.append(note)
        self.state.updated_at = workflow.now()
        await run(returns_db.RECORD_RETURN, self.state)

    async def _operator(self, why: str) -> ReturnApproval:
        self.approval = None
        await self._save(ReturnStatus.AWAITING_OPERATOR, why)
        await workflow.wait_condition(lambda: self.approval is not None)
        assert self.approval is not None
        return self.approval

    @workflow.run
    async def run(self, case: ReturnCase) -> ReturnState:
        await self._save(ReturnStatus.REQUESTED)
        await self._decide_request(case)
        approved = [ln for ln in self.state.lines if ln.decision == "approve"]
        if not approved:
            await self._save(ReturnStatus.REJECTED, "; ".join(sorted({ln.why for ln in self.state.lines})))
            return self.state
        self.state.refund_shipping = (
            case.whole_order
            and len(approved) == len(self.state.lines)
            and any(self.outcomes[ln.sku].refund_shipping for ln in approved)
        )
        to_send = [ln for ln in approved if self.outcomes[ln.sku].require_return]
        for ln in approved:
            if ln not in to_send:
                ln.received, ln.grade, ln.why = (
                    ln.quantity,
                    "",
                    "kept by the customer: not worth sending back",
                )
        if to_send and not await self._bring_back(case, to_send):
            return self.state
        await self._inspect(case, to_send)
        if case.request.resolution == "exchange":
            await self._exchange(case, approved)
        else:
            await self._refund(case, approved)
        return self.state

    async def _decide_request(self, case: ReturnCase) -> None:
        days = max((workflow.now() - case.delivered_at).days, 0)
        conditions = {ln.sku: ln.condition for ln in case.request.lines}
        for ln in self.state.lines:
            product = case.product_facts.get(ln.sku, {})
            facts = {
                "stage": "request",
                "reason": ln.reason,
                "condition": conditions[ln.sku],
                "resolution": case.request.resolution,
                "days_since_delivery": days,
                "customer_tier": case.order.customer.tier.value,
                "amount_minor": to_minor(parcel_value(case.order, {ln.sku: ln.quantity})),
                "whole_order": case.whole_order,
                "returnable": bool(product.get("returnable", True)),
                "hazmat": bool(product.get("hazmat", False)),
                "channel": case.order.channel,
            }
            decision = await run(store.DECIDE, DecisionRequest(
                    order_id=case.order.order_id,
                    key=f"{case.rma}:request:{ln.sku}",
                    ruleset="returns",
                    facts=facts,
                    step=f"return:{case.rma}",
                ))
            self.state.decisions.append(decision)
            outcome = self.outcomes[ln.sku] = decision.outcome_as(ReturnOutcome)
            ln.decision, ln.why = outcome.decision, outcome.reason
        if any(ln.decision == "review" for ln in self.state.lines):
            answer = await self._operator(
                "; ".join(ln.why for ln in self.state.lines if ln.decision == "review")
            )
            for ln in self.state.lines:
                if ln.decision == "review":
                    ln.decision = "approve" if answer.approve else "reject"
                    verdict = "approved" if answer.approve else "rejected"
                    ln.why = f"{verdict} by {answer.operator}: {answer.reason}"
            await self._save(ReturnStatus.REQUESTED)

    async def _bring_back(self, case: ReturnCase, lines: list[ReturnLineState]) -> bool:
        """Label, warehouse notice, then wait for the goods; False when the return ended here."""
        warehouse = case.warehouse_of[lines[0].sku]
        label = await self._book_label(case, warehouse, lines)
        if label is None:
            answer = await self._operator(
                "no carrier would take the return parcel - arrange a pickup, "
                "then approve (or reject to close the return)"
            )
            if not answer.approve:
                await self._save(ReturnStatus.REJECTED, f"closed by {answer.operator}: {answer.reason}")
                return False
        else:
            self.state.label_carrier, self.state.label_waybill = label.carrier, label.waybill_no
        skus = {ln.sku for ln in lines}
        await run(wms.CREATE_RETURN_ORDER, ReturnOrderRequest(
                rma=case.rma,
                warehouse=warehouse,
                exchange=case.request.resolution == "exchange",
                carrier=self.state.label_carrier,
                waybill_no=self.state.label_waybill,
                sender=case.order.shipping_address,
                lines=[ln for ln in case.request.lines if ln.sku in skus],
            ))
        days = min(self.outcomes[ln.sku].ship_back_days for ln in lines)
        await self._save(
            ReturnStatus.AWAITING_GOODS,
            f"label {self.state.label_carrier} {self.state.label_waybill}; send within {days} days",
        )
        try:
            await workflow.wait_condition(lambda: self.receipt is not None, timeout=timedelta(days=days))
        except TimeoutError:
            await self._save(
                ReturnStatus.EXPIRED, f"nothing came back within {days} days; closed without a refund"
            )
            return False
        assert self.receipt is not None
        got = {i.sku: i for i in self.receipt.lines}
        for ln in lines:
            inspection = got.get(ln.sku)
            ln.received = min(inspection.quantity, ln.quantity) if inspection else 0
            ln.grade = inspection.grade if inspection else ""
            if inspection and inspection.quantity:
                # every unit that arrived, as the API booked it (the same key; the store
                # decides what each grade books)
                await run(returns_db.BOOK_RETURNED_UNITS, ReturnedUnits(
                        rma=case.rma, warehouse=self.receipt.warehouse, sku=ln.sku,
                        quantity=inspection.quantity, grade=inspection.grade,
                    ))
        await self._save(
            ReturnStatus.RECEIVED,
            f"received at {self.receipt.warehouse}: "
            + ", ".join(f"{ln.sku} x{ln.received} {ln.grade or 'missing'}" for ln in lines),
        )
        return True

    async def _book_label(
        self, case: ReturnCase, warehouse: str, lines: list[ReturnLineState]
    ) -> Waybill | None:
        facts = case.product_facts
        parcel = Shipment(
            shipment_id=case.rma,
            order_id=case.order.order_id,
            warehouse=warehouse,
            lines=[ParcelLine(sku=ln.sku, quantity=ln.quantity) for ln in lines],
            weight_g=sum(int(facts.get(ln.sku, {}).get("weight_g", 500)) * ln.quantity for ln in lines),
            volume_cm3=sum(int(facts.get(ln.sku, {}).get("volume_cm3", 0)) * ln.quantity for ln in lines),
            service="hazmat" if any(facts.get(ln.sku, {}).get("hazmat") for ln in lines) else "standard",
        )
        province = case.order.shipping_address.province
        rule_facts = {
            "direction": "return",
            **parcel_facts(parcel, province, case.order.customer.tier.value, to_minor(case.order.total)),
        }

        def request_for(quote: Quote, origin_province: str) -> WaybillRequest:
            return WaybillRequest(
                shipment=parcel, carrier=quote.carrier, address=case.order.shipping_address,
                protocol=quote.protocol, level=quote.level, reverse=True,
                origin_province=case.warehouse_province.get(warehouse, origin_province))

        booking = await book_carrier(parcel, province, rule_facts, request_for)
        self.state.decisions.append(booking.decision)
        self.state.bookings.extend(booking.events)
        self.state.notes.extend(
            f"{carrier} did not book the return label: {why}" for carrier, why in booking.refusals.items()
        )
        return booking.waybill

    async def _inspect(self, case: ReturnCase, lines: list[ReturnLineState]) -> None:
        for ln in lines:
            if not ln.received:
                ln.refund_percent = 0
                continue
            decision = await run(store.DECIDE, DecisionRequest(
                    order_id=case.order.order_id,
                    key=f"{case.rma}:inspection:{ln.sku}",
                    ruleset="returns",
                    step=f"return:{case.rma}",
                    facts={
                        "stage": "inspection",
                        "inspection": ln.grade,
                        "reason": ln.reason,
                        "customer_tier": case.order.customer.tier.value,
                        "channel": case.order.channel,
                    },
                ))
            self.state.decisions.append(decision)
            inspected = decision.outcome_as(ReturnOutcome)
            ln.refund_percent = inspected.refund_percent
            if ln.refund_percent < 100:
                ln.why = inspected.reason

    async def _refund(self, case: ReturnCase, lines: list[ReturnLineState]) -> None:
        for ln in lines:
            ln.refund_amount = (
                parcel_value(case.order, {ln.sku: ln.received}, ln.refund_percent)
                if ln.received
                else Decimal(0)
            )
        amount = quantize(
            sum((ln.refund_amount for ln in lines), Decimal(0))
            + (case.order.shipping_fee if self.state.refund_shipping else Decimal(0))
        )
        if amount <= 0:
            await self._save(ReturnStatus.REFUNDED, "nothing to refund after inspection")
            return
        while True:
            try:
                self.state.refund = await run(payments.REFUND, RefundRequest(
                        order_id=case.order.order_id,
                        refund_no=case.rma,
                        amount=amount,
                        reason=f"return {case.rma}",
                    ))
                break
            except (ActivityError, ApplicationError) as err:
                cause = business_failure(err, ExceptionKind.PAYMENT_DECLINED)
                if cause is None:
                    raise
                answer = await self._operator(
                    f"{cause.message} - settle with the customer, approve to try again"
                )
                if not answer.approve:
                    await self._save(
                        ReturnStatus.REFUNDED, f"refund settled outside Ordo by {answer.operator}"
                    )
                    return
        await self._save(ReturnStatus.REFUNDED, f"refunded {amount} {case.order.currency}")

    async def _exchange(self, case: ReturnCase, lines: list[ReturnLineState]) -> None:
        units = {ln.sku: ln.received for ln in lines if ln.received}
        if not units:
            await self._save(ReturnStatus.EXCHANGED, "nothing came back to exchange")
            return
        replacement = replacement_order(
            case.order, case.rma, units, case.request.exchange_sku, case.order.shipping_address
        )
        await workflow.start_child_workflow(
            OrderWorkflow.run,
            replacement,
            id=replacement.workflow_id,
            task_queue=queues.ORDERS,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self.state.replacement_order_id = replacement.order_id
        await self._save(ReturnStatus.EXCHANGED, f"replacement order {replacement.order_id} started")
