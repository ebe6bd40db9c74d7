"""Orders: read one, counts by status, and the operator's actions (Temporal Updates whose
validators decide; a refusal is 409 with the reason, before anything was written)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.security import Caller
from domain.access import Purpose
from domain.messages import AddressChange, OperatorNote
from domain.model import Address
from domain.plain import plain
from domain.queries import OrderQuery
from services import order_list, rules

router = APIRouter()


@router.get("/v1/orders/search")
async def search(query: Annotated[OrderQuery, Query()], services: ServicesDep, who: Caller) -> dict[str, Any]:
    """The order list: filters (channel, status, priority, tier, date range, SKU, warehouse,
    total range, order or customer id), newest first, a page at a time, with the total."""
    return (await order_list.search(who, services.read_db, query)).model_dump(mode="json")


@router.get("/v1/orders/export.csv")
async def export(query: Annotated[OrderQuery, Query()], services: ServicesDep,
                 who: Caller) -> StreamingResponse:
    """Every order the filters match, as CSV (paging ignored; needs `exports:run`; audited)."""
    rows = await order_list.export_csv(who, services.read_db, services.audit, query)
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": 'attachment; filename="orders.csv"'})


@router.get("/v1/orders/{order_id}/explain")
async def explain(order_id: str, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Every decision the order got: the rules that fired, the facts they saw, and for each
    rule that did not fire the first condition that failed; then what came of it."""
    found = await rules.explain_order(who, services.read_db, order_id)
    return {"decisions": [plain(e) for e in found]}


@router.get("/v1/orders/{order_id}/timeline")
async def timeline(order_id: str, services: ServicesDep, who: Caller) -> dict[str, Any]:
    """Each status the order passed through, with when (as its workflow recorded them)."""
    return {"transitions": [t.model_dump(mode="json") for t in await services.orders.timeline(who, order_id)]}


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
async def change_address(order_id: str, address: Address, services: ServicesDep, who: Caller,
                         reason: Annotated[str, Query(max_length=500, description="why: kept in the audit "
                                                      "trail")] = "") -> dict[str, Any]:
    """Change the shipping address until the order ships."""
    result = await services.orders.act(who, order_id, "change_address",
                                       AddressChange(address=address, reason=reason))
    return result.model_dump(mode="json")
