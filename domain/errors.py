"""Field-level errors in one shape, whether they come from pydantic or from a catalogue check."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError


class FieldError(BaseModel):
    field: str
    reason: str


def field_path(loc: tuple[int | str, ...]) -> str:
    """`('lines', 0, 'quantity')` -> `lines[0].quantity`, the way a user reads a JSON path."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"


def describe(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        reason = str(err["msg"]).removeprefix("Value error, ")
        errors.append(FieldError(field=field_path(loc), reason=reason))
    return errors
