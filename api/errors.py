"""Error bodies in one shape: what was wrong (field + reason) and what to do next; and the
one place a service's refusal becomes an HTTP status."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.errors import FieldError, field_path
from services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    TooManyAttempts,
    Unauthenticated,
    Unavailable,
)

STATUS: dict[type[ServiceError], int] = {
    NotFound: 404, Conflict: 409, Invalid: 422, Unauthenticated: 401, Forbidden: 403, TooManyAttempts: 429,
    Unavailable: 503,
}


def status_of(exc: ServiceError) -> int:
    return next(code for kind, code in STATUS.items() if isinstance(exc, kind))


def problem(status: int, message: str, errors: list[FieldError] | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": message, **extra}
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    return JSONResponse(status_code=status, content=body)


async def service_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    response = problem(status_of(exc), exc.message, exc.errors, **exc.extra)
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in exc.extra:
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
    return response


async def request_validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(field=field_path(tuple(p for p in e["loc"] if p != "body")),
                         reason=str(e["msg"]).removeprefix("Value error, "))
              for e in exc.errors()]
    return problem(422, "the request body is not valid", errors)
