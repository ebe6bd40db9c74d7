"""The personal-data vault: what `domain/pii.py` takes out of an order, sealed under a key
outside the database, readable only by the activities that hand a parcel to a warehouse or
a carrier and by people who reveal it with a purpose; erased by customer.

A reference is an HMAC of the order id and the data under a key of its own, so the same
order delivered twice gets the same reference (one record), and a reference says nothing
about the phone number behind it (a plain hash of an 11-digit number could be reversed by
trying them all).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from config.keys import secret_key
from config.sealing import Sealer, SealError, sealer
from domain import pii
from domain.model import Address, Order
from store import tables as t

REF_LENGTH = 24


async def unseal_address(vault: Vault | None, address: Address) -> Address:
    """For an activity that may run without a vault (its own tests): an address that was never
    pseudonymised needs none; one that was cannot go on a label without it."""
    if vault is not None:
        return await vault.address(address)
    if pii.is_pseudonymised(address):
        raise RuntimeError("this address is in the vault and this worker has none: start it with "
                           "`worker.py`, which opens the vault")
    return address


class Vault:
    def __init__(self, db: AsyncEngine, var_dir: Path, seal: Sealer | None = None) -> None:
        self.db = db
        self.sealer = seal or sealer(var_dir, "data")
        self.ref_key = secret_key(var_dir, "pii-ref")

    def _ref(self, order_id: str, fields: dict[str, str]) -> str:
        msg = json.dumps([order_id, fields], sort_keys=True, ensure_ascii=False).encode()
        return hmac.new(self.ref_key, msg, hashlib.sha256).hexdigest()[:REF_LENGTH]

    async def protect_address(self, address: Address, order_id: str, customer_id: str) -> Address:
        """The address with its personal fields in the vault and references in their place."""
        fields = pii.personal_fields(address)
        if pii.is_pseudonymised(address) or not fields:
            return address
        ref = self._ref(order_id, fields)
        sealed = self.sealer.seal(json.dumps(fields, ensure_ascii=False).encode(), ref.encode())
        async with self.db.begin() as conn:
            known = (await conn.execute(
                select(t.personal_data.c.ref).where(t.personal_data.c.ref == ref))).first()
            if known is None:
                try:
                    async with conn.begin_nested():
                        await conn.execute(t.personal_data.insert().values(
                            ref=ref, customer_id=customer_id, order_id=order_id, sealed=sealed))
                except IntegrityError:  # the same delivery, written a moment ago by another request
                    pass
        return pii.pseudonymised(address, ref)

    async def protect(self, order: Order) -> Order:
        address = await self.protect_address(order.shipping_address, order.order_id, order.customer.id)
        return pii.with_order_address(order, address)

    async def records(self, refs: set[str]) -> dict[str, dict[str, str]]:
        """Each live record's fields; an erased record is absent."""
        if not refs:
            return {}
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(t.personal_data.c.ref, t.personal_data.c.sealed)
                                       .where(t.personal_data.c.ref.in_(refs)))).all()
        found: dict[str, dict[str, str]] = {}
        for row in rows:
            if row.sealed:
                try:
                    found[row.ref] = json.loads(self.sealer.open(row.sealed, row.ref.encode()))
                except SealError:
                    continue  # its key is gone: as good as erased
        return found

    async def resolve(self, obj: Any) -> Any:
        """A JSON-like value with every reference replaced by what it stands for."""
        return pii.resolve(obj, await self.records(pii.refs_in(obj)))

    async def address(self, address: Address) -> Address:
        """The address as a warehouse or carrier must see it on the label."""
        if not pii.is_pseudonymised(address):
            return address
        return Address.model_validate(await self.resolve(address.model_dump()))
