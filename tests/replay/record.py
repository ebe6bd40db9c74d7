"""Record the histories tests/replay/test_replay.py replays: `python -m tests.replay.record`.

Without options: runs every workflow test marked `records("scenario")` at the working tree
and replaces `tests/replay/histories/<scenario>--*.json`. Run it after a change that is
meant to alter histories (and versioned, README "Versioning"), never to make a failing
replay pass: a history that no longer replays is a workflow in flight that would break.

`--test FILE::NAME`: only that test. `--at REV --test FILE::NAME --suffix TAG`: the same at
an older commit (a git worktree of REV, with this recorder, the test and the simulators
copied in), kept as `<scenario>.<TAG>--*.json`: the
history of code from before a `workflow.patched` change, which the new code must replay.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import typer

from tests.replay.recorder import HISTORIES

ROOT = Path(__file__).resolve().parents[2]


def _pytest(cwd: Path, out: Path, *selection: str, may_fail: bool = False) -> None:
    """`may_fail`: at an older commit the test may fail (the old code did what the new code
    fixes); its histories are what the old code recorded all the same."""
    env = {**os.environ, "ORDO_RECORD_HISTORIES": "1", "ORDO_RECORD_HISTORIES_DIR": str(out),
           "PYTHONPATH": str(cwd)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
                          cwd=cwd, env=env)
    if done.returncode and not may_fail:
        raise SystemExit(f"the recording run failed (exit {done.returncode}); nothing was replaced")
    if done.returncode:
        print(f"note: the test failed at the older commit (exit {done.returncode}); keeping its histories")


def main(at: str = typer.Option("", help="an older commit to record at"),
         test: str = typer.Option("", help="only this test (FILE::NAME); with --at, required"),
         suffix: str = typer.Option("", help="with --at: kept as <scenario>.<suffix>--*.json")) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        if not at:
            _pytest(ROOT, out, *([test] if test else ["tests/workflow", "-m", "records"]))
        else:
            if not (test and suffix):
                raise SystemExit("--at needs --test and --suffix")
            tree = Path(tmp) / "tree"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), at], cwd=ROOT, check=True)
            try:
                # the recorder, the test and the simulators (stand-ins for third parties, not the
                # workflow code whose histories are recorded) come from the working tree
                for keep in ("tests/replay", "tests/workflow/conftest.py", test.split("::")[0], "simulators"):
                    source, target = ROOT / keep, tree / keep
                    if source.is_dir():
                        shutil.copytree(source, target, dirs_exist_ok=True,
                                        ignore=shutil.ignore_patterns("histories"))
                    else:
                        shutil.copyfile(source, target)
                _pytest(tree, out, test, may_fail=True)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
        recorded = sorted(out.glob("*.json"))
        names = {p: (f"{p.name.split('--', 1)[0]}.{suffix}--{p.name.split('--', 1)[1]}" if suffix else p.name)
                 for p in recorded}
        for scenario in {n.split("--", 1)[0] for n in names.values()}:  # a scenario recorded again
            for old in HISTORIES.glob(f"{scenario}--*.json"):
                old.unlink()
        for path, name in names.items():
            shutil.move(path, HISTORIES / name)
        print(f"{len(recorded)} histories written to {HISTORIES.relative_to(ROOT)}")


if __name__ == "__main__":
    typer.run(main)
