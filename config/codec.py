"""Every payload Ordo sends to Temporal is encrypted by this codec (AES-256-GCM): workflow
inputs, activity arguments and results, signals, Updates, queries, memos. The key's id
travels in the payload's metadata, so a history written under an old key still decodes
after the key rotates (`ordo privacy rotate-key --codec`), and new payloads use the newest.

Personal data never reaches Temporal in the first place (references to the vault travel
instead, see domain/pii.py): this codec keeps the business data (what was ordered, totals,
decisions) unreadable to whoever runs or can read the Temporal server. A payload without
this codec's encoding (a history recorded before the codec, a search attribute) passes
through untouched.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from config.sealing import NONCE_BYTES, Sealer, SealError

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sealer) -> None:
        self.keys = keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self.keys.current
        aes = AESGCM(self.keys.keys[key_id])
        out = []
        for p in payloads:
            nonce = os.urandom(NONCE_BYTES)
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()},
                               data=nonce + aes.encrypt(nonce, p.SerializeToString(), None)))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding", b"") != ENCODING:
                out.append(p)
                continue
            key_id = p.metadata.get(KEY_ID, b"").decode()
            if key_id not in self.keys.keys:
                raise SealError(f"this payload was encrypted with key '{key_id}', which is not in var/keys")
            plain = AESGCM(self.keys.keys[key_id]).decrypt(p.data[:NONCE_BYTES], p.data[NONCE_BYTES:], None)
            out.append(Payload.FromString(plain))
        return out


def with_codec(converter: DataConverter, keys: Sealer | None) -> DataConverter:
    """The converter with payloads encrypted (`keys` None: as it is)."""
    return dataclasses.replace(converter, payload_codec=EncryptionCodec(keys)) if keys else converter
