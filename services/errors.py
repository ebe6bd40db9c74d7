"""What a use case says when it cannot do what was asked: a kind of refusal, a message that
tells the caller what to do next, and the fields at fault. The API maps each kind to one
status code in one place (`api/errors.py`); the `ordo` command prints the message."""

from __future__ import annotations

from typing import Any

from domain.errors import FieldError


class ServiceError(Exception):
    def __init__(self, message: str, errors: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.extra = extra


class NotFound(ServiceError):
    """No such order, return, transfer, SKU or channel."""


class Conflict(ServiceError):
    """The thing exists but is not in a state that allows this (the workflow refused)."""


class Invalid(ServiceError):
    """The input is wrong; `extra['dead_letter_id']` says where it was kept."""


class Unauthenticated(ServiceError):
    """A signature, secret or credential did not match; nothing was processed."""


class Forbidden(ServiceError):
    """The caller is known but its role or scope does not allow this."""


class TooManyAttempts(ServiceError):
    """Sign-in slowed down or the account locked after failed attempts; `extra['retry_after']`."""


class Unavailable(ServiceError):
    """A part Ordo needs (Temporal, an orders worker) did not answer in time: retry."""
