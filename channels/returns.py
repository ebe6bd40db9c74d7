"""Return requests raised on a sales channel, read into Ordo's own `ReturnRequest`.

- Shopify: the `returns/request` webhook's Return (`order.id`, `return_line_items[]` naming
  the order's line item through `fulfillment_line_item.line_item.id`, `return_reason`).
- Taobao / Tmall: `taobao.refund.get` fetched after a TMC `taobao_refund_RefundCreated`
  message; one refund is one line (`oid`), and only a refund with goods coming back
  (`has_good_return`) is a return. The buyer's reason is the platform's menu text.

Channels name lines by their own ids; the order Ordo keeps carries them
(`Line.channel_line_id`), so a line is found by id, and an error names the channel's field.
The condition is the buyer's word on neither channel: the request says `unopened` and the
warehouse's grading decides the refund.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.base import PayloadError, fail, need, obj, parse_json
from domain.errors import FieldError
from domain.model import Order, order_id_for
from domain.returns import Reason, ReturnLine, ReturnRequest

SHOPIFY_REASONS: dict[str, Reason] = {
    "defective": "defective",
    "not_as_described": "not_as_described",
    "wrong_item": "wrong_item",
    "size_too_small": "size_fit",
    "size_too_large": "size_fit",
    "style": "changed_mind",
    "color": "changed_mind",
    "unwanted": "changed_mind",
    "other": "changed_mind",
    "unknown": "changed_mind",
}
# Taobao's buyer menu, by the words that decide it (first match wins); anything else is
# taken as a change of mind, the reason the return rules treat most strictly.
TAOBAO_REASONS: tuple[tuple[str, Reason], ...] = (
    ("破损", "damaged_in_transit"),
    ("质量", "defective"),
    ("发错", "wrong_item"),
    ("错发", "wrong_item"),
    ("描述不符", "not_as_described"),
    ("与描述", "not_as_described"),
    ("尺码", "size_fit"),
    ("大小", "size_fit"),
)


@dataclass(frozen=True)
class AskedLine:
    channel_line_id: str
    quantity: int
    reason: Reason
    path: str  # the channel's field naming this line, for errors


@dataclass(frozen=True)
class ChannelReturn:
    order_id: str
    request_id: str
    lines: list[AskedLine]
    note: str


def read_shopify(raw: bytes) -> ChannelReturn:
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise fail("body", "expected a Shopify Return object (returns/request webhook)")
    return_id = str(need(data, "id", "id"))
    order = data.get("order")
    if not isinstance(order, dict) or not order.get("id"):
        raise fail("order.id", "required: the order this return is for")
    items = data.get("return_line_items")
    if not isinstance(items, list) or not items:
        raise fail("return_line_items", "required: at least one line to return")
    lines, errors, notes = [], [], []
    for i, item in enumerate(items):
        path, entry = f"return_line_items[{i}]", obj(item)
        line_id = obj(obj(entry.get("fulfillment_line_item")).get("line_item")).get("id")
        if not line_id:
            errors.append(FieldError(field=f"{path}.fulfillment_line_item.line_item.id",
                                     reason="required: the order line being returned"))
            continue
        quantity = entry.get("quantity")
        if not isinstance(quantity, int) or quantity <= 0:
            errors.append(FieldError(field=f"{path}.quantity", reason="expected a whole number above 0"))
            continue
        reason = str(entry.get("return_reason") or "unknown").lower()
        if reason not in SHOPIFY_REASONS:
            errors.append(FieldError(field=f"{path}.return_reason",
                                     reason=f"'{reason}' is not a Shopify return reason "
                                     f"({', '.join(SHOPIFY_REASONS)})"))
            continue
        lines.append(AskedLine(str(line_id), quantity, SHOPIFY_REASONS[reason],
                               f"{path}.fulfillment_line_item.line_item.id"))
        notes += [str(n) for n in (entry.get("return_reason_note"), entry.get("customer_note")) if n]
    if errors:
        raise PayloadError(errors)
    return ChannelReturn(order_id=order_id_for("shopify", str(order["id"])),
                         request_id=f"shopify-return-{return_id}", lines=lines, note="; ".join(notes))


def taobao_reason(text: str) -> Reason:
    return next((reason for words, reason in TAOBAO_REASONS if words in text), "changed_mind")


def read_taobao(raw: bytes, channel: str = "taobao") -> ChannelReturn:
    data = parse_json(raw)
    if isinstance(data, dict) and isinstance(data.get("refund_get_response"), dict):
        data = data["refund_get_response"].get("refund")
    elif isinstance(data, dict) and isinstance(data.get("refund"), dict):
        data = data["refund"]
    if not isinstance(data, dict):
        raise fail("refund", "expected a refund (taobao.refund.get response or its refund)")
    refund_id = str(need(data, "refund_id", "refund.refund_id"))
    tid = str(data.get("tid_str") or need(data, "tid", "refund.tid"))
    oid = str(data.get("oid_str") or need(data, "oid", "refund.oid"))
    if data.get("has_good_return") not in (True, "true"):
        raise fail("refund.has_good_return",
                   "false: a refund without goods coming back (仅退款) is not a return; "
                   "agree or refuse it on the platform")
    try:
        quantity = int(need(data, "num", "refund.num"))
    except (TypeError, ValueError):
        raise fail("refund.num", "expected a whole number of units") from None
    if quantity <= 0:
        raise fail("refund.num", "expected a whole number above 0")
    reason_text = str(data.get("reason") or "")
    note = "; ".join(str(x) for x in (reason_text, data.get("desc")) if x)
    return ChannelReturn(order_id=order_id_for(channel, tid), request_id=f"{channel}-refund-{refund_id}",
                         lines=[AskedLine(oid, quantity, taobao_reason(reason_text), "refund.oid")],
                         note=note)


def to_request(asked: ChannelReturn, order: Order) -> ReturnRequest:
    """The channel's lines as Ordo's, by the line ids the order kept; two channel lines of
    one SKU become one line (Ordo returns by SKU), with the first one's reason."""
    by_id = {ln.channel_line_id: ln.sku for ln in order.lines if ln.channel_line_id}
    errors = [FieldError(field=a.path, reason=f"{a.channel_line_id} is not a line of order {order.order_id} "
                         f"(its lines: {', '.join(by_id) or 'none with channel ids'})")
              for a in asked.lines if a.channel_line_id not in by_id]
    if errors:
        raise PayloadError(errors)
    lines: dict[str, ReturnLine] = {}
    for a in asked.lines:
        sku = by_id[a.channel_line_id]
        if sku in lines:
            lines[sku].quantity += a.quantity
        else:
            lines[sku] = ReturnLine(sku=sku, quantity=a.quantity, reason=a.reason)
    return ReturnRequest(request_id=asked.request_id, note=asked.note[:2000], lines=list(lines.values()))
