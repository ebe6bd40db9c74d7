"""Recognise business failures whether they arrive wrapped (remote activity: ActivityError
with the ApplicationError as cause) or bare (local activity failures arrive unwrapped)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def business_failure(err: BaseException, kind: str) -> ApplicationError | None:
    for candidate in (err, getattr(err, "cause", None)):
        if isinstance(candidate, ApplicationError) and candidate.type == kind:
            return candidate
    return None
