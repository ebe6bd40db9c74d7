"""The operator console: one page and its own scripts and styles, served from this package
(nothing from a CDN, nothing fetched at run time). The page holds no data; everything it
shows comes from the API with the signed-in person's session, so it shows what their role
and scope allow and nothing more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from api.deps import ServicesDep
from api.security import Caller
from services.errors import NotFound

router = APIRouter(include_in_schema=False)
ASSETS = Path(__file__).resolve().parent.parent / "console"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}
# the page runs only its own scripts and talks only to this API
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
HEADERS = {"content-security-policy": POLICY, "x-content-type-options": "nosniff",
           "referrer-policy": "same-origin", "cache-control": "no-cache"}


@router.get("/v1/console/settings", include_in_schema=True)
async def settings(services: ServicesDep, who: Caller) -> dict[str, Any]:
    """What the console needs to know of this deployment: where the Temporal Web UI is."""
    s = services.settings
    host = s.temporal_address.rsplit(":", 1)[0]
    return {"temporal_ui": s.temporal_ui_url or f"http://{host}:{s.temporal_ui_port}",
            "namespace": s.temporal_namespace, "low_stock_units": s.low_stock_units, "subject": who.subject}


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console")


@router.get("/console")
def page() -> Response:
    return asset("index.html")


@router.get("/console/assets/{name}")
def asset(name: str) -> Response:
    """Read on each request (they are small), so an edited file shows on the next reload."""
    path = (ASSETS / name).resolve()
    if path.parent != ASSETS or path.suffix not in TYPES or not path.is_file():
        raise NotFound(f"no console file '{name}'")
    return Response(path.read_bytes(), media_type=TYPES[path.suffix], headers=HEADERS)
