"""Percentiles as PostgreSQL's `percentile_cont` computes them (linear interpolation between
the closest ranks), so a figure reads the same on SQLite, where Python computes it."""

from __future__ import annotations

from collections.abc import Sequence


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
