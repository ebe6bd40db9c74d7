"""Rule files in a running worker: a fraud flag from the priority rules holds an order; a
rule change while an order is in flight applies to its later decisions only; a broken file
is refused while the worker keeps deciding with the last good version; every version that
goes live is in the rule-change log."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from domain.messages import OperatorNote
from domain.rulesets import SplitOutcome
from domain.status import OrderStatus
from rules.engine import compile_loaded, load_rule_file
from store import decisions
from tests.factories import make_order
from tests.harness import wait_until
from tests.workflow.conftest import WorkflowStack
from tests.workflow.test_lifecycle import deliver_all, start, status_is, update

SHIPPED = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A copy of the shipped rules that the test edits while the worker runs."""
    target = tmp_path / "rules"
    shutil.copytree(SHIPPED, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def version_of(path: Path) -> str:
    return compile_loaded(load_rule_file(path)).version


async def test_a_rule_change_mid_flight_applies_to_later_decisions_only(
    wf: WorkflowStack, rules_dir: Path
) -> None:
    v1 = {name: version_of(rules_dir / f"{name}.yaml") for name in ("priority", "split", "carriers")}
    order = make_order("fraud-live-1", [("PHONE-X1", 5)])
    handle = await start(wf, order)
    held = await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "the fraud hold")
    assert held.exception_type == "fraud_review"
    [priority] = [d for d in held.decisions if d.ruleset == "priority"]
    assert "fraud-bulk-electronics" in priority.fired and priority.version == v1["priority"]
    assert held.decisions[-1].fired[0] == "fraud-hold-for-review"

    # while it waits: smaller parcels go live, a broken carriers file is refused
    split = rules_dir / "split.yaml"
    split.write_text(
        split.read_text(encoding="utf-8").replace("max_parcel_weight_g: 20000", "max_parcel_weight_g: 1000"),
        encoding="utf-8",
    )
    carriers = rules_dir / "carriers.yaml"
    carriers.write_text(
        carriers.read_text(encoding="utf-8").replace(
            "{fact: lane, eq: economy}", "{fact: lane, eq: ecconomy}"
        ),
        encoding="utf-8",
    )
    await update(handle, "release", OperatorNote(reason="buyer checked"))
    await deliver_all(wf, handle, expected_parcels=3)  # 5 x 420 g in parcels of at most 1 kg
    state = await handle.result()

    assert state.status == OrderStatus.COMPLETED
    by_set = {d.ruleset: d for d in state.decisions}
    assert by_set["priority"].version == v1["priority"]  # decided before the change, kept
    assert by_set["split"].version == version_of(split) != v1["split"]
    assert by_set["split"].outcome_as(SplitOutcome).max_parcel_weight_g == 1000
    assert {d.version for d in state.decisions if d.ruleset == "carriers"} == {v1["carriers"]}

    log = await decisions.list_versions(wf.db)
    assert [
        (e.seq, e.version, e.previous_version, e.summary) for e in log if e.ruleset == "split"
    ] == [
        (2, by_set["split"].version, v1["split"], "default changed"),
        (1, v1["split"], None, "rule set added"),
    ]
    assert [e.version for e in log if e.ruleset == "carriers"] == [v1["carriers"]]
    assert all(e.loaded_by and e.source.endswith(".yaml") for e in log)

    recorded = await decisions.decisions_for_order(wf.db, order.order_id)
    assert {(r.ruleset, r.version) for r in recorded} == {
        (d.ruleset, d.version) for d in state.decisions
    }
    assert all(r.decided_at is not None and r.evaluator == "durable_rules" for r in recorded)


async def test_an_order_intake_was_unsure_of_is_held_until_an_operator_releases_it(wf: WorkflowStack) -> None:
    order = make_order("text-unsure-1", [("COKE-330-24", 1)], channel="text")
    order = order.model_copy(update={"review": "'可乐' -> COKE-330-24? candidates: ..."})
    handle = await start(wf, order)
    held = await wait_until(lambda: status_is(handle, OrderStatus.AWAITING_OPERATOR), "the intake hold")
    assert held.exception_type == "intake_review"
    assert held.decisions[-1].fired == ["intake-review-operator"]
    await update(handle, "release", OperatorNote(reason="customer confirmed cola"))
    await deliver_all(wf, handle, expected_parcels=1)
    assert (await handle.result()).status == OrderStatus.COMPLETED
