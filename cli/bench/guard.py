"""The bench check: this run's orders figures against the ones committed with the code.

Absolute orders/s move with the machine and its other load, so the check compares what
survives noise: the Ordo/baseline ratio measured in the same run, and the orders worker's
CPU per order as a share of the CPU one baseline workflow cost in the same run (CPU time
per order itself doubled on this machine between a quiet and a loaded hour, for the same
code). A margin absorbs the noise seen between runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COMMITTED = Path(__file__).with_name("committed.json")
MARGIN = 0.25  # run-to-run spread of the ratio on this 2-core machine was up to 15%


def committed(path: Path = COMMITTED) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def figures(result: dict[str, Any]) -> dict[str, float]:
    """The guarded figures of one `run_bench` result."""
    worker = float(result["ordo"]["cpu_ms_per_order"]["worker-orders"])
    baseline = float(result["baseline"]["cpu_ms_per_order"]["total"])
    return {"ratio": float(result["ratio"]), "orders_worker_cpu_ms_per_order": worker,
            "orders_worker_cpu_per_baseline_cpu": round(worker / baseline, 3)}


def regressions(result: dict[str, Any], path: Path = COMMITTED, margin: float = MARGIN) -> list[str]:
    """One line per guarded figure that fell past the margin; empty when all hold."""
    then, now = committed(path), figures(result)
    found = []
    if now["ratio"] < then["ratio"] * (1 - margin):
        found.append(f"ratio Ordo/baseline {now['ratio']} < {then['ratio']} committed "
                     f"- {margin:.0%} = {then['ratio'] * (1 - margin):.3f}")
    share, then_share = now["orders_worker_cpu_per_baseline_cpu"], then["orders_worker_cpu_per_baseline_cpu"]
    if share > then_share * (1 + margin):
        found.append(f"orders worker CPU per order {share} × a baseline workflow's > {then_share} "
                     f"committed + {margin:.0%} = {then_share * (1 + margin):.3f}")
    return found


def record(result: dict[str, Any], path: Path = COMMITTED) -> dict[str, float]:
    """Commit this run's figures as the ones later runs are held to."""
    now = {**figures(result), "orders_per_s": float(result["ordo"]["orders_per_s"]),
           "baseline_orders_per_s": float(result["baseline"]["orders_per_s"])}
    path.write_text(json.dumps(now, indent=2) + "\n", encoding="utf-8")
    return now
