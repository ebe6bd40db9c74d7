"""Realistic transport faults for simulators, so callers must retry idempotently:
- 5xx: some requests fail with 500, some after the work was done (the answer is lost);
- slow answers: the answer comes, late;
- timeouts: the work is done but the answer comes only after the caller has given up.

Set from `ORDO_SIM_FAILURE_RATE` at start, and at run time with `PUT /admin/faults`
(`ordo chaos` turns them on and off)."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

SLOW_SECONDS = (0.3, 1.5)


class FaultSettings(BaseModel):
    rate: float = Field(0.0, ge=0, le=1, description="share of calls failing with 500 (half before, "
                        "half after the work)")
    slow_rate: float = Field(0.0, ge=0, le=1, description="share of answers delayed 0.3-1.5 s")
    hang_rate: float = Field(0.0, ge=0, le=1, description="share of answers held past the caller's timeout")
    hang_seconds: float = Field(12.0, ge=0, le=120, description="how long a held answer waits")


class Faults:
    def __init__(self, rate: float | None = None, seed: int | None = None) -> None:
        self.settings = FaultSettings(
            rate=float(os.environ.get("ORDO_SIM_FAILURE_RATE", "0")) if rate is None else rate)
        self._random = random.Random(seed)
        self.injected = 0

    @property
    def rate(self) -> float:
        return self.settings.rate

    def maybe_fail(self, when: str) -> None:
        """`when` is "before" (nothing done) or "after" (work done, answer lost)."""
        if self.rate and self._random.random() < self.rate / 2:
            self.injected += 1
            raise HTTPException(status_code=500, detail=f"simulated outage ({when} processing)")

    def install(self, app: FastAPI) -> None:
        """Slow and held answers on every non-admin route, and `GET|PUT /admin/faults`."""

        @app.middleware("http")
        async def delay_answers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
            s = self.settings
            if request.url.path.startswith("/admin") or not (s.slow_rate or s.hang_rate):
                return await call_next(request)
            draw = self._random.random()
            if draw < s.slow_rate:
                self.injected += 1
                await asyncio.sleep(self._random.uniform(*SLOW_SECONDS))
                return await call_next(request)
            response = await call_next(request)
            if draw < s.slow_rate + s.hang_rate:
                self.injected += 1
                await asyncio.sleep(s.hang_seconds)  # done, but the caller has given up by now
            return response

        @app.get("/admin/faults")
        async def show() -> dict[str, Any]:
            return {**self.settings.model_dump(), "injected": self.injected}

        @app.put("/admin/faults")
        async def change(body: FaultSettings) -> dict[str, Any]:
            self.settings = body
            return {**self.settings.model_dump(), "injected": self.injected}
