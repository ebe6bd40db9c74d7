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
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from config.sealing import Sealer

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sealer) -> None:
        self.keys = keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypted(p) for p in payloads]

    def _encrypted(self, payload: Payload) -> Payload:
        key_id, blob = self.keys.encrypt(payload.SerializeToString())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=blob)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Raises SealError for a payload whose key is gone or that was changed."""
        return [Payload.FromString(self.keys.decrypt(p.metadata.get(KEY_ID, b"").decode(), p.data))
                if p.metadata.get("encoding", b"") == ENCODING else p for p in payloads]


def with_codec(converter: DataConverter, keys: Sealer | None) -> DataConverter:
    """The converter with payloads encrypted (`keys` None: as it is)."""
    return dataclasses.replace(converter, payload_codec=EncryptionCodec(keys)) if keys else converter
