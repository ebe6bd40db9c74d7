"""The checks `ordo chaos` runs after each fault, on hand-made books: each must find the
breach it exists for, and nothing in books that are in order."""

from __future__ import annotations

from collections import Counter

from cli.chaos.invariants import (
    intake_violations,
    payment_violations,
    push_violations,
    stock_violations,
    workflow_violations,
)
from cli.chaos.load import Sent


def book(**parts: dict[str, dict[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    return {"auths": {}, "trades": {}, "unfreezes": {}, "refunds": {}, **parts}


def auth(order_id: str, status: str, amount: str = "59.00", no: str = "A1") -> dict[str, str]:
    return {"auth_no": no, "amount": amount, "out_order_no": order_id, "status": status}


def test_payments_in_order_pass() -> None:
    ledger = book(auths={"a-auth": auth("a", "CAPTURED"), "b-auth": auth("b", "UNFROZEN", no="A2")},
                  trades={"a": {"trade_no": "T1", "total_amount": "59.00", "trade_status": "TRADE_SUCCESS"}},
                  refunds={"r1": {"out_trade_no": "a", "send_back_fee": "59.00"}})
    assert payment_violations({"a": "completed", "b": "cancelled"}, ledger) == []


def test_each_payment_breach_is_named() -> None:
    ledger = book(
        auths={"c-auth": auth("c", "SUCCESS"), "d-auth": auth("d", "SUCCESS", no="A4"),
               "e-auth": auth("e", "CAPTURED", amount="10.00", no="A5"),
               "f1": auth("f", "UNFROZEN", no="A6"), "f2": auth("f", "UNFROZEN", no="A7"),
               "g-auth": auth("g", "CAPTURED", no="A8")},
        trades={"e": {"total_amount": "59.00"}, "g": {"total_amount": "59.00"}},
        refunds={"r": {"out_trade_no": "g", "send_back_fee": "30.00"},
                 "r2": {"out_trade_no": "g", "send_back_fee": "30.00"}})
    found = payment_violations({"c": "cancelled", "d": "completed", "e": "completed", "f": "cancelled",
                                "g": "completed"}, ledger)
    assert found == [
        "c: cancelled, but authorisation A1 is still frozen (not voided)",
        "d: completed, but authorisation A4 was neither captured nor voided",
        "e: captured 59.00, more than the 10.00 authorised",
        "f: 2 authorisations",
        "g: refunded 60.00, more than the 59.00 captured",
    ]
    cancelled_after_capture = payment_violations({"g": "cancelled"}, book(
        auths={"g": auth("g", "CAPTURED")}, trades={"g": {"total_amount": "59.00"}}))
    assert cancelled_after_capture == ["g: cancelled after a capture of 59.00, only 0 refunded"]


def test_a_push_acknowledged_to_the_carrier_must_have_reached_its_parcel() -> None:
    delivered = {"orderId": "o1-p1", "waybill": "W1", "cancelled": False, "acked": 5, "done": True,
                 "route": ["50", "36", "31", "204", "80"]}
    collected = {"orderId": "o2-p1", "waybill": "W2", "cancelled": False, "acked": 1, "route": ["50"]}
    cancelled = {"orderId": "o3-p1", "waybill": "W3", "cancelled": True, "acked": 1, "route": ["50"]}
    abandoned = {"orderId": "o4-p1", "waybill": "W4", "cancelled": False, "acked": 2, "abandoned": True,
                 "route": ["50", "36", "31"]}
    bookings = {"jd:o1-p1": delivered, "jd:o2-p1": collected, "jd:o3-p1": cancelled, "jd:o4-p1": abandoned}
    assert push_violations(bookings, {"o1-p1": ("delivered", "W1"), "o2-p1": ("in_transit", "W2")}) == []
    assert push_violations(bookings, {"o1-p1": ("in_transit", "W1"), "o2-p1": ("waybill_created", "W2")}) == [
        "o1-p1: delivery acknowledged to the carrier, but Ordo has it in_transit",
        "o2-p1: 1 push(es) acknowledged, but Ordo has it waybill_created",
    ]
    assert push_violations({"jd:o2-p1": collected}, {}) == [
        "o2-p1: the carrier's waybill W2 is not Ordo's (none)"]


def test_intake_workflows_and_stock() -> None:
    twice = Sent("x-1", {"chaos-x-1", "chaos-x-1b"})
    never = Sent("x-2", set(), refused="POST /v1/orders kept failing")
    assert intake_violations({"x-0": Sent("x-0", {"chaos-x-0"}), "x-1": twice, "x-2": never}) == [
        "x-1: the API answered with 2 order ids ['chaos-x-1', 'chaos-x-1b'] for one sale",
        "x-2: never acknowledged (POST /v1/orders kept failing)"]
    runs = Counter({"order-a": 1, "order-b": 2})
    assert workflow_violations(["a", "b", "c"], runs) == ["b: 2 order workflow runs, not 1",
                                                        "c: 0 order workflow runs, not 1"]
    assert stock_violations([("COKE", "SH-01", 5, 6), ("RICE", "SH-01", 5, 5)], ["RICE@SH-01: drift"],
                            [("o9", "completed")]) == [
        "COKE@SH-01: reserved 6 of 5 on hand", "ledger audit: RICE@SH-01: drift",
        "o9: is completed but still holds a stock reservation"]
