"""Business failures the workflow routes through the exception rules (never retried as-is)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain.exceptions import ExceptionKind


def business_failure(kind: ExceptionKind, message: str, *details: object) -> ApplicationError:
    return ApplicationError(message, *details, type=kind.value, non_retryable=True)
