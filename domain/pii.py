"""Personal data out of the order as it travels: the customer's name, phone, street and
postal code are kept in the vault (`store/vault.py`), and the order that reaches Temporal,
the inbox and the orders table carries a reference in their place (`pii:<ref>`), with the
province, city and district the rules need left as they are.

A reference names a vault record; the field it stands in says which of the record's values
it is. Erasing the record leaves every copy of the order readable for the books and the
person unreadable everywhere.
"""

from __future__ import annotations

from typing import Any

from domain.model import Address, Order

REF_PREFIX = "pii:"
ADDRESS_FIELDS = ("name", "phone", "street", "postal_code")
ERASED = "[erased]"


def is_ref(value: object) -> bool:
    return isinstance(value, str) and value.startswith(REF_PREFIX)


def ref_of(value: str) -> str:
    return value.removeprefix(REF_PREFIX)


def personal_fields(address: Address) -> dict[str, str]:
    return {f: getattr(address, f) for f in ADDRESS_FIELDS if getattr(address, f)}


def pseudonymised(address: Address, ref: str) -> Address:
    """The address with each personal field replaced by the reference."""
    return address.model_copy(update={f: REF_PREFIX + ref for f in personal_fields(address)})


def is_pseudonymised(address: Address) -> bool:
    return is_ref(address.phone)


def with_order_address(order: Order, address: Address) -> Order:
    return order.model_copy(update={"shipping_address": address})


def refs_in(obj: Any) -> set[str]:
    """Every vault reference anywhere in a JSON-like value."""
    if isinstance(obj, dict):
        return set().union(*(refs_in(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(refs_in(v) for v in obj)) if obj else set()
    return {ref_of(obj)} if is_ref(obj) else set()


def resolve(obj: Any, records: dict[str, dict[str, str]], key: str = "") -> Any:
    """The value with each reference replaced by the field it stands in for; a reference whose
    record is erased or missing reads `[erased]`."""
    if isinstance(obj, dict):
        return {k: resolve(v, records, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve(v, records, key) for v in obj]
    if is_ref(obj):
        return records.get(ref_of(obj), {}).get(key, ERASED)
    return obj
