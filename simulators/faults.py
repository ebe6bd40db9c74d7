"""Realistic transport faults for simulators: some requests fail with 500, some after the
work was done (the response is lost), so callers must retry idempotently."""

from __future__ import annotations

import os
import random

from fastapi import HTTPException


class Faults:
    def __init__(self, rate: float | None = None, seed: int | None = None) -> None:
        self.rate = float(os.environ.get("ORDO_SIM_FAILURE_RATE", "0")) if rate is None else rate
        self._random = random.Random(seed)
        self.injected = 0

    def maybe_fail(self, when: str) -> None:
        """`when` is "before" (nothing done) or "after" (work done, answer lost)."""
        if self.rate and self._random.random() < self.rate / 2:
            self.injected += 1
            raise HTTPException(status_code=500, detail=f"simulated outage ({when} processing)")
