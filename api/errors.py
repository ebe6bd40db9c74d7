"""Error bodies in one shape: what was wrong (field + reason) and what to do next."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.errors import FieldError, field_path


def problem(status: int, message: str, errors: list[FieldError] | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": message, **extra}
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    return JSONResponse(status_code=status, content=body)


async def request_validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(field=field_path(tuple(p for p in e["loc"] if p != "body")),
                         reason=str(e["msg"]).removeprefix("Value error, "))
              for e in exc.errors()]
    return problem(422, "the request body is not valid", errors)
