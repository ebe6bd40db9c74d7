"""Sealing at rest with rotating keys, and personal data swapped for vault references."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.sealing import SealError, key_ids, rotate, sealer
from domain import pii
from tests.factories import make_order


def test_a_value_sealed_under_an_old_key_opens_after_the_key_rotates(tmp_path: Path) -> None:
    first = sealer(tmp_path, "data")
    old = first.seal(b"13812345678", b"ref-1")
    assert old.startswith("ordo1.data-1.") and b"13812345678" not in old.encode()
    assert rotate(tmp_path, "data") == "data-2"
    second = sealer(tmp_path, "data")
    assert second.current == "data-2" and key_ids(tmp_path, "data") == ["data-1", "data-2"]
    assert second.open(old, b"ref-1") == b"13812345678"
    assert second.seal(b"x", b"ref-2").startswith("ordo1.data-2.")
    assert oct((tmp_path / "keys" / "data-2.key").stat().st_mode & 0o777) == "0o600"


def test_rotating_before_any_use_keeps_the_first_key_for_what_it_may_have_sealed(tmp_path: Path) -> None:
    assert rotate(tmp_path, "codec") == "codec-2"
    assert key_ids(tmp_path, "codec") == ["codec-1", "codec-2"]


def test_a_changed_moved_or_keyless_value_does_not_open(tmp_path: Path) -> None:
    seal = sealer(tmp_path, "data")
    value = seal.seal(b"secret", b"ref-1")
    with pytest.raises(SealError, match="changed or moved"):
        seal.open(value, b"ref-2")  # moved to another record
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    with pytest.raises(SealError):
        seal.open(tampered, b"ref-1")
    with pytest.raises(SealError, match="var/keys"):
        sealer(tmp_path / "elsewhere", "data").open(value.replace("data-1", "data-9"), b"ref-1")


def test_an_order_carries_references_where_its_personal_data_was() -> None:
    order = make_order("T1", channel="tmall")
    address = pii.pseudonymised(order.shipping_address, "abc123")
    assert (address.name, address.phone, address.street) == ("pii:abc123",) * 3
    assert (address.province, address.city, address.district) == ("上海", "上海市", "浦东新区")
    assert address.postal_code == "" and pii.is_pseudonymised(address)
    body = pii.with_order_address(order, address).model_dump(mode="json")
    assert pii.refs_in(body) == {"abc123"}
    assert "13812345678" not in str(body)
    record = pii.personal_fields(order.shipping_address)
    resolved = pii.resolve(body, {"abc123": record})
    assert resolved["shipping_address"]["phone"] == "13812345678"
    assert resolved == order.model_dump(mode="json")
    assert pii.resolve(body, {})["shipping_address"]["street"] == pii.ERASED
