"""Ordo's HTTP API: one router per resource (`api/routes/`), each a thin layer over
`services/`; a service's refusal becomes its status code in `api.errors`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

from api.errors import problem, request_validation_handler, service_error_handler
from api.openapi import describe_raw_bodies
from api.routes import (
    admin,
    auth,
    carriers,
    catalog,
    codec,
    console,
    dashboard,
    divisions,
    intake,
    inventory,
    metrics,
    orders,
    payments,
    returns,
    rules,
    wms,
    work_queue,
)
from api.security import guard
from config.logs import configure_logging
from config.settings import Settings, get_settings
from domain.model import Order
from domain.returns import ReturnRequest
from services.container import open_services
from services.errors import ServiceError


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            yield

    app = FastAPI(title="Ordo", version="0.1.0", lifespan=lifespan, dependencies=[Depends(guard)],
                  description="Automatic multi-channel order management. Every route but the "
                  "channels' and partners' signed webhooks needs `Authorization: Bearer <API key or "
                  "access token>` (README, Security).")
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(ServiceError, service_error_handler)

    @app.exception_handler(RPCError)
    async def _temporal_down(_: Request, exc: RPCError) -> JSONResponse:
        return problem(503, f"Temporal is unavailable ({exc.message}); retry shortly")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(CORSMiddleware, allow_origins=ui_origins(settings), allow_credentials=True,
                       allow_methods=["POST"], allow_headers=["content-type", "authorization", "x-namespace"])
    for module in (auth, intake, orders, payments, returns, wms, inventory, carriers, catalog, rules, admin,
                   codec, work_queue, dashboard, divisions, metrics, console):
        app.include_router(module.router)
    describe_raw_bodies(app, Order, ReturnRequest)
    return app


def ui_origins(settings: Settings) -> list[str]:
    """The Temporal Web UI, which calls the codec server from the browser."""
    host = settings.temporal_address.rsplit(":", 1)[0]
    return sorted({f"http://{h}:{settings.temporal_ui_port}" for h in (host, "127.0.0.1", "localhost")})


def main() -> None:
    """Run the API with uvicorn (used by `ordo up` as a child process)."""
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, component="api")
    tls = bool(settings.tls_certfile and settings.tls_keyfile)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="warning",
                ssl_certfile=settings.tls_certfile if tls else None,
                ssl_keyfile=settings.tls_keyfile if tls else None)


if __name__ == "__main__":
    main()
