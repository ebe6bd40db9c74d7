"""The WMS's reports to Ordo (Qimen, signed): `stockchange.report`, `entryorder.confirm`,
`returnorder.confirm`, applied by `services.wms_reports`; answered in Qimen's XML."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import ServicesDep
from api.errors import status_of
from domain.wire import qimen
from services.errors import Invalid, ServiceError

router = APIRouter()


def _xml(body: str, status: int = 200) -> Response:
    return Response(body, media_type="application/xml", status_code=status)


@router.post("/v1/wms/qimen", response_class=PlainTextResponse)
async def wms_report(request: Request, services: ServicesDep, method: str = "", sign: str = "") -> Response:
    """Qimen `stockchange.report`, `entryorder.confirm` and `returnorder.confirm` from the WMS."""
    body = (await request.body()).decode("utf-8", errors="replace")
    params = {k: v for k, v in request.query_params.items()}
    try:
        answer = await services.wms.apply(method, params, body, sign)
    except ServiceError as exc:
        # Qimen's convention: a request it cannot read is a 400, whatever the reason
        status = 400 if isinstance(exc, Invalid) else status_of(exc)
        return _xml(qimen.response("failure", str(exc.extra.get("code", status)), exc.message), status)
    return _xml(qimen.response("success" if answer.ok else "failure", answer.code, answer.message))
