"""How personal data shows to anyone not entitled to see it: mobile `138****5678`, name
`王*`, street `张江****`, resident ID `110105********001X`, email `l***@example.com`, and
the same numbers and emails found inside free text (a message, a note, a log line).

Used by the logs (a structlog processor), API responses, the CLI and exports, so one rule
masks everywhere. A resident ID is recognised by its check digit (GB 11643), so an
18-digit order number is not taken for one.
"""

from __future__ import annotations

import re
from typing import Any

PERSONAL_KEYS = {"phone", "mobile", "email", "street", "address", "detail_address", "detailaddress",
                 "id_number", "name", "receiver_name", "contact", "receiver", "buyer_nick", "telephone",
                 "tel", "receiver_mobile", "receiver_phone", "receiver_address", "postal_code"}
PHONE_KEYS = {"phone", "mobile", "telephone", "tel", "receiver_mobile", "receiver_phone"}
NAME_KEYS = {"name", "receiver_name", "contact", "receiver", "buyer_nick"}
ID_KEYS = {"id_number"}
VAULT_REF = "pii:"
_MOBILE = re.compile(r"(?<![\dA-Za-z])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+)")
_RESIDENT_ID = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_resident_id(text: str) -> bool:
    """An 18-character PRC resident identity number whose last character is its check digit."""
    if len(text) != 18 or not text[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17].upper()


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(phone)
    return digits[-11:-8] + "****" + digits[-4:] if len(digits) >= 11 else digits[:3] + "****" + digits[-4:]


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else name


def mask_street(street: str) -> str:
    return street[:2] + "****" if street else street


def mask_id_number(number: str) -> str:
    return number[:6] + "********" + number[-4:] if len(number) >= 10 else "*" * len(number)


def _id_in_text(match: re.Match[str]) -> str:
    whole = match.group(0)
    return mask_id_number(whole) if is_resident_id(whole) else whole


def mask_text(text: str) -> str:
    """Mobile numbers (any of the ways people write them), emails and resident IDs inside free text."""
    text = _RESIDENT_ID.sub(_id_in_text, text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _EMAIL.sub(r"\1***\2", text)


def mask_value(key: str, value: Any) -> Any:
    """Mask `value` found under `key`, recursing into dicts and lists."""
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    if not isinstance(value, str) or not value or value.startswith(VAULT_REF):
        return value  # a vault reference (domain/pii.py) is not personal data
    k = key.lower()
    if k in PHONE_KEYS:
        return mask_phone(value)
    if k in NAME_KEYS:
        return mask_name(value)
    if k in ID_KEYS:
        return mask_id_number(value)
    if k == "email":
        return mask_text(value) if "@" in value else mask_name(value)
    if k in PERSONAL_KEYS:
        return mask_street(value)
    return mask_text(value)
