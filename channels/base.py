"""What every channel adapter produces, and how it says a payload is wrong.

Adapters are pure: raw bytes (and, for free text, the catalogue) in; a canonical
`domain.Order` or a change to an existing order out, or a `PayloadError` naming each
failing field by its path in the channel's own payload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import ValidationError

from domain.errors import FieldError, describe
from domain.model import Order

MAX_DEPTH = 32


class PayloadError(Exception):
    """The payload cannot become an order; `errors` name each field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


@dataclass
class Intake:
    """One payload's meaning: a new order, or a change to one the channel sent before
    (`cancel`, or `address`: the order as it is now, whose shipping address may be new)."""

    kind: Literal["order", "cancel", "address", "hold"]
    channel: str
    external_id: str
    order: Order | None = None
    reason: str = ""  # for a cancellation
    notes: list[str] = field(default_factory=list)

    @property
    def order_id(self) -> str:
        return f"{self.channel}-{self.external_id}"


def fail(path: str, reason: str) -> PayloadError:
    return PayloadError([FieldError(field=path, reason=reason)])


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_json(raw: bytes) -> Any:
    """JSON from raw bytes, refusing what is not UTF-8, not JSON or nested too deeply."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail("body", f"not UTF-8 text (byte {exc.start} is invalid)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail("body", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise fail("body", f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise fail("body", f"JSON nested deeper than {MAX_DEPTH} levels")
    return data


def build_order(data: dict[str, Any], paths: dict[str, str] | None = None) -> Order:
    """Validate a canonical order built by an adapter; errors are reported under the
    channel's own field names when `paths` maps canonical paths to them."""
    try:
        return Order.model_validate(data)
    except ValidationError as exc:
        errors = describe(exc)
        if paths:
            errors = [FieldError(field=_channel_path(e.field, paths), reason=e.reason) for e in errors]
        raise PayloadError(errors) from None


def _channel_path(canonical: str, paths: dict[str, str]) -> str:
    for prefix in sorted(paths, key=len, reverse=True):
        if canonical == prefix or canonical.startswith(prefix + ".") or canonical.startswith(prefix + "["):
            return paths[prefix] + canonical[len(prefix) :]
    return canonical


def money(value: Any, path: str) -> Decimal:
    """An amount however the platform writes it (string, number, empty for zero)."""
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise fail(path, f"'{value}' is not an amount") from None
    if not amount.is_finite():
        raise fail(path, f"'{value}' is not an amount")
    return amount


def obj(value: Any) -> dict[str, Any]:
    """A nested object, or an empty one when the platform sent something else there."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def need(obj: Any, key: str, path: str) -> Any:
    """A required field of a channel payload, or an error naming its path."""
    if not isinstance(obj, dict):
        raise fail(path.rsplit(".", 1)[0] or "body", "expected an object")
    value = obj.get(key)
    if value is None or value == "":
        raise fail(path, "required but missing or empty")
    return value
