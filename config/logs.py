"""structlog JSON logging with personal data masked before anything is written.

Masking happens in a processor, so no call site can forget it: any value under a
personal-data key, and any phone number or email inside free text, is hidden.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PERSONAL_KEYS = {"phone", "mobile", "email", "street", "address", "detail_address",
                 "detailaddress", "id_number", "name", "receiver_name", "contact"}
PHONE_KEYS = {"phone", "mobile"}
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+)")


def mask_text(text: str) -> str:
    """Hide Chinese mobile numbers and emails inside free text."""
    return _EMAIL.sub(r"\1***\2", _PHONE.sub(r"\1****\2", text))


def mask_value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    if isinstance(value, str):
        if key.lower() in PHONE_KEYS and len(value) >= 7:
            return value[:3] + "****" + value[-4:]
        if key.lower() in PERSONAL_KEYS:
            return value[:1] + "***" if value else value
        return mask_text(value)
    return value


def _mask_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    return {k: mask_value(k, v) for k, v in event.items()}


def configure_logging(level: str = "INFO", component: str = "ordo") -> None:
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_processor,
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(component=component)
