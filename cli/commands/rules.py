"""`ordo rules ...`: check, test, explain, simulate and diff rule files; print the schema."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.commands.database import migrated_url
from cli.credentials import caller
from config.settings import get_settings
from domain.plain import plain
from rules.check import check_directory
from rules.diff import diff_rulesets
from rules.engine import EngineProcess, LoadedRuleset, compile_loaded
from rules.examples import run_examples
from rules.explain import DecisionExplanation
from rules.format import RuleFile
from rules.schema import rule_file_schema
from rules.simulate import SimulationReport, Simulator
from services.rules import explain_order
from store import decisions
from store.db import make_engine

rules_app = typer.Typer(help="Rule files: check, test, explain, simulate, diff.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
PATH_HELP = "a rule file or directory (default: ORDO_RULES_DIR, ./rules)"


def _default_dir() -> Path:
    return get_settings().rules_dir


def _load_dir(path: Path, what: str) -> dict[str, LoadedRuleset]:
    """Rule sets in a directory that pass `check`; any problem stops the command."""
    if not path.exists():
        err.print(f"{what} {path} does not exist", style="red")
        raise typer.Exit(2)
    results = check_directory(path)
    problems = [p for r in results for p in r.problems]
    if problems:
        for problem in problems:
            err.print(str(problem), style="red", markup=False, soft_wrap=True)
        err.print(f"{what} {path} has {len(problems)} problem(s); fix them (`ordo rules check {path}`)")
        raise typer.Exit(1)
    return {r.rule_file.ruleset: compile_loaded(r.rule_file) for r in results if r.rule_file}


@rules_app.command("schema")
def schema() -> None:
    """Print the rule-file format as JSON Schema (for editors)."""
    print(json.dumps(rule_file_schema(), indent=2, ensure_ascii=False))


@rules_app.command("check")
def check(path: Path = typer.Argument(None, help=PATH_HELP)) -> None:
    """Validate rule files: every problem with file, line, column, rule and what is wrong."""
    path = path or _default_dir()
    results = check_directory(path)
    if not results:
        err.print(f"no *.yaml rule files in {path}", style="red")
        raise typer.Exit(1)
    bad = 0
    for result in results:
        if result.problems:
            bad += len(result.problems)
            for problem in result.problems:
                console.print(str(problem), style="red", markup=False, soft_wrap=True)
        elif result.rule_file is not None:
            loaded = compile_loaded(result.rule_file)
            console.print(f"{result.path}: ok - rule set '{loaded.rule_file.ruleset}', "
                          f"{len(loaded.rule_file.rules)} rules, {len(loaded.rule_file.examples)} examples, "
                          f"version {loaded.version}", markup=False)
    if bad:
        console.print(f"{bad} problem(s)", style="red")
        raise typer.Exit(1)


@rules_app.command("test")
def test(path: Path = typer.Argument(None, help=PATH_HELP)) -> None:
    """Run every example of every rule file; pass/fail per case with the difference."""
    loaded = _load_dir(path or _default_dir(), "rules")
    engine = EngineProcess()
    failed = total = 0
    try:
        for name in sorted(loaded):
            for case in run_examples(loaded[name].rule_file, engine):
                total += 1
                mark = "[green]PASS[/]" if case.passed else "[red]FAIL[/]"
                console.print(f"{mark} {name}: {case.name}")
                for diff in case.differences:
                    console.print(f"     {diff}", markup=False, soft_wrap=True)
                failed += not case.passed
    finally:
        engine.close()
    console.print(f"{total - failed} passed, {failed} failed")
    if failed or not total:
        raise typer.Exit(1)


async def _explained(order_id: str) -> list[DecisionExplanation]:
    settings = get_settings()
    db = make_engine(settings.effective_database_url)
    try:
        return await explain_order(await caller(settings, db), db, order_id)
    finally:
        await db.dispose()


@rules_app.command("explain")
def explain_cmd(order_id: str = typer.Argument(..., help="e.g. tmall-T20261111-0001"),
                as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Every decision an order got: version, rules fired, facts, outcome, and why others did not fire."""
    migrated_url()
    explained = asyncio.run(_explained(order_id))
    if not explained:
        err.print(f"no decisions recorded for order '{order_id}': check the id (GET /v1/orders lists "
                  "counts; order ids are <channel>-<external id>)", style="red")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps([plain(e) for e in explained], indent=2, ensure_ascii=False, default=str))
        return
    for e in explained:
        console.rule(f"{e.step}  ({e.ruleset} version {e.version}, {e.decided_at}, {e.evaluator})")
        console.print(f"outcome: {json.dumps(e.outcome, ensure_ascii=False)}", markup=False)
        facts = {k: v for k, v in e.facts.items() if k != "quotes"}
        console.print(f"facts:   {json.dumps(facts, ensure_ascii=False)}", markup=False, soft_wrap=True)
        if e.note:
            console.print(e.note, style="yellow")
        for v in e.fired:
            console.print(f"  [green]fired[/]   {v.rule} (priority {v.priority}) -> "
                          f"{json.dumps(v.then, ensure_ascii=False)}  {v.description}")
        for v in e.not_fired:
            console.print(f"  [dim]no[/]      {v.rule} (priority {v.priority}): failed {v.failed}")
        for f in e.followups:
            fee = f", {f.fee} yuan, {f.promised_days} days" if f.kind == "booked" else ""
            console.print(f"  [cyan]then[/]    {f.seq}. {f.kind} {f.carrier} {f.level}{fee}"
                          f"{': ' + f.reason if f.reason else ''}", markup=True)



async def _simulate(candidate: dict[str, LoadedRuleset], since: dt.datetime | None,
                    limit: int | None) -> tuple[SimulationReport, float]:
    db = make_engine(get_settings().effective_database_url, readonly=True)
    engine = EngineProcess()
    simulator = Simulator(candidate, engine)
    started = time.perf_counter()
    try:
        with Progress(TextColumn("re-deciding"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("decisions"), TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("simulate", total=None)
            async for rows in decisions.past_decisions(db, since, limit):
                await asyncio.to_thread(simulator.feed, rows)
                bar.update(task, completed=simulator.report.decisions + simulator.report.skipped)
    finally:
        simulator.close()
        engine.close()
        await db.dispose()
    return simulator.report, time.perf_counter() - started


@rules_app.command("simulate")
def simulate(
    candidate: Path = typer.Option(..., "--candidate", help="directory of candidate rule files"),
    since: dt.datetime = typer.Option(None, help="only orders created on or after (e.g. 2026-11-01)"),
    limit: int = typer.Option(None, help="only the N most recent orders"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON only"),
) -> None:
    """Re-decide past orders with candidate rule files; report what would change."""
    loaded = _load_dir(candidate, "candidate")
    migrated_url()
    since_utc = since.replace(tzinfo=since.tzinfo or dt.UTC) if since else None
    report, seconds = asyncio.run(_simulate(loaded, since_utc, limit))
    data = {"candidate": str(candidate), "seconds": round(seconds, 2), **report.as_json()}
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console.print(f"{report.orders} orders, {report.decisions} decisions re-decided in {seconds:.1f} s: "
                  f"{report.changed} would change ({report.skipped} skipped: rule set not in candidate)")
    table = Table("rule set", "decisions", "would change")
    for name, tally in sorted(report.by_ruleset.items()):
        table.add_row(name, str(tally.decisions), str(tally.changed))
    console.print(table)
    changes = Table("rule set", "change", "decisions", "sample orders")
    for group in data["changes"]:
        changes.add_row(group["ruleset"], group["change"], str(group["count"]), ", ".join(group["samples"]))
    if data["changes"]:
        console.print(changes)
    if report.disagreements:
        err.print(f"{report.disagreements} decisions where durable_rules and the reference evaluator "
                  f"disagree (e.g. {', '.join(report.disagreement_samples)}): a bug in Ordo, "
                  "please report it",
                  style="red")
        raise typer.Exit(3)
    console.print_json(json.dumps({k: data[k] for k in ("orders", "decisions", "changed", "seconds")}))


@rules_app.command("diff")
def diff(old: Path = typer.Argument(..., help="the rule directory (or file) in force"),
         new: Path = typer.Argument(..., help="the candidate directory (or file)")) -> None:
    """What changed between two rule directories, rule by rule."""
    before, after = _rule_files(old), _rule_files(new)
    changed = 0
    for name in sorted(set(before) | set(after)):
        d = diff_rulesets(before.get(name), after.get(name))
        if d.kind == "same":
            continue
        changed += 1
        console.rule(f"{name}: {d.summary()}")
        for setting, (a, b) in d.settings.items():
            console.print(f"  {setting}: {a!r} -> {b!r}", markup=False, soft_wrap=True)
        for rc in d.rules:
            style = {"added": "green", "removed": "red"}.get(rc.kind, "yellow")
            console.print(f"  [{style}]{rc.kind:8}[/] {rc.rule}")
            for field, (a, b) in rc.fields.items():
                console.print(f"             {field}: {json.dumps(a, ensure_ascii=False)} -> "
                              f"{json.dumps(b, ensure_ascii=False)}", markup=False, soft_wrap=True)
    if not changed:
        console.print("no differences")


def _rule_files(path: Path) -> dict[str, RuleFile]:
    """Every file that parses; problems of meaning are shown but do not hide the diff."""
    if not path.exists():
        err.print(f"{path} does not exist", style="red")
        raise typer.Exit(2)
    out: dict[str, RuleFile] = {}
    for result in check_directory(path):
        for problem in result.problems:
            err.print(f"warning: {problem}", style="yellow", markup=False, soft_wrap=True)
        if result.rule_file is None:
            err.print(f"{result.path} cannot be read as a rule file; fix it first", style="red")
            raise typer.Exit(1)
        out[result.rule_file.ruleset] = result.rule_file
    return out
