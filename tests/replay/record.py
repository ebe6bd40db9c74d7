"""Record the histories tests/replay/test_replay.py replays: `python -m tests.replay.record`.

Without options: runs every workflow test marked `records("scenario")` at the working tree
and replaces `tests/replay/histories/<scenario>--*.json`. Run it after a change that is
meant to alter histories (and versioned, README "Versioning"), never to make a failing
replay pass: a history that no longer replays is a workflow in flight that would break.

`--at REV --test FILE::NAME --suffix TAG`: the same at an older commit (a git worktree of
REV, with this recorder and the test copied in), kept as `<scenario>.<TAG>--*.json`: the
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


def _pytest(cwd: Path, out: Path, *selection: str) -> None:
    env = {**os.environ, "ORDO_RECORD_HISTORIES": "1", "ORDO_RECORD_HISTORIES_DIR": str(out),
           "PYTHONPATH": str(cwd)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
                          cwd=cwd, env=env)
    if done.returncode:
        raise SystemExit(f"the recording run failed (exit {done.returncode}); nothing was replaced")


def main(at: str = typer.Option("", help="an older commit to record at"),
         test: str = typer.Option("", help="with --at: the test (FILE::NAME) to run there"),
         suffix: str = typer.Option("", help="with --at: kept as <scenario>.<suffix>--*.json")) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        if not at:
            _pytest(ROOT, out, "tests/workflow", "-m", "records")
        else:
            if not (test and suffix):
                raise SystemExit("--at needs --test and --suffix")
            tree = Path(tmp) / "tree"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), at], cwd=ROOT, check=True)
            try:
                for keep in ("tests/replay", "tests/workflow/conftest.py", test.split("::")[0]):
                    source, target = ROOT / keep, tree / keep
                    if source.is_dir():
                        shutil.copytree(source, target, dirs_exist_ok=True,
                                        ignore=shutil.ignore_patterns("histories"))
                    else:
                        shutil.copyfile(source, target)
                _pytest(tree, out, test)
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
