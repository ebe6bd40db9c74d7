"""Orders: read one, counts by status, and the operator's actions (Temporal Updates whose
validators decide; a refusal is 409 with the reason, before anything was written)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.security import Caller
from domain.access import Purpose
from domain.messages import AddressChange, OperatorNote
from domain.model import Address

router = APIRouter()


@router.get("/v1/orders/{order_id}")
async def get_order(order_id: str, services: ServicesDep, who: Caller,
                    reveal: Annotated[Purpose | None, Query(
                        description="show personal data in full, for this purpose (needs `pii:read`; "
                                    "audited)")] = None) -> dict[str, Any]:
    """The order, its live workflow state (status, shipments, decisions, bookings) and the
    stored record (with the decision log and what came of each decision). Personal data
    is masked unless `reveal` names a purpose and the caller may see it."""
    return await services.orders.view(who, order_id, reveal)


@router.get("/v1/orders")
async def order_counts(services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Orders by status, for dashboards (a scoped caller counts its own channels)."""
    return {"by_status": await services.orders.counts(who)}


class OrderIds(BaseModel):
    order_ids: list[str] = Field(min_length=1, max_length=10_000)


@router.post("/v1/orders/statuses")
async def order_statuses(body: OrderIds, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Where each of these orders stands (`accepted`: in the inbox, not started yet) and how
    many are in each status: a batch followed from a script or a dashboard."""
    return (await services.orders.statuses(who, body.order_ids)).model_dump()


def _action(name: str, update: str, doc: str) -> None:
    async def act(order_id: str, services: ServicesDep, who: Caller,
                  note: Annotated[OperatorNote | None, Body()] = None) -> dict[str, Any]:
        result = await services.orders.act(who, order_id, update, note or OperatorNote())
        return result.model_dump(mode="json")

    act.__name__ = f"{name}_order"
    act.__doc__ = doc
    router.post(f"/v1/orders/{{order_id}}/{name}")(act)


for _name in ("cancel", "hold", "release"):
    _action(_name, _name, f"Operator action `{_name}` (a Temporal Update; 409 with the reason if refused).")
_action("paid", "payment_received",
        "The customer paid an order that came in `payment.status: awaiting` (a bank transfer arrived, a "
        "pay-later was settled): its held stock is kept and the order carries on.")


@router.post("/v1/orders/{order_id}/address")
async def change_address(order_id: str, address: Address, services: ServicesDep,
                         who: Caller) -> dict[str, Any]:
    """Change the shipping address until the order ships."""
    result = await services.orders.act(who, order_id, "change_address", AddressChange(address=address))
    return result.model_dump(mode="json")
