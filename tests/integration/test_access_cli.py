"""`ordo users`, `ordo tokens` and `ordo audit` as an admin runs them, and `ordo` commands
refusing a credential that may not do what they do. Real processes, a real database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from config.settings import PROJECT_ROOT
from tests.harness import BIN, prepare_database


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ordo"), *args], env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120)


async def test_people_keys_and_the_audit_trail_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    await prepare_database(db_url)
    env = {**os.environ, "ORDO_VAR_DIR": str(tmp_path), "ORDO_DATABASE_URL": db_url, "COLUMNS": "200"}
    env.pop("ORDO_TOKEN", None)

    first = run(env, "users", "list")  # a database with no accounts: the first command makes admin
    assert first.returncode == 0, first.stderr
    assert "created the account 'admin'" in first.stderr and "admin" in first.stdout
    assert (tmp_path / "admin.token").read_text().startswith("ordo_")

    added = run(env, "users", "add", "li.lei", "--role", "operator", "--channels", "tmall")
    assert added.returncode == 0 and "password, shown once:" in added.stdout, added.stderr
    assert "li.lei" in run(env, "users", "list").stdout
    assert run(env, "users", "add", "li.lei", "--role", "viewer").returncode == 2  # taken: says so
    assert run(env, "users", "disable", "li.lei").returncode == 0
    assert "disabled" in run(env, "users", "list").stdout
    assert run(env, "users", "enable", "li.lei").returncode == 0
    reset = run(env, "users", "reset-password", "li.lei")
    assert reset.returncode == 0 and "new password for li.lei" in reset.stdout
    assert run(env, "users", "disable", "nobody").returncode == 2

    made = run(env, "tokens", "create", "--name", "wall-screen", "--role", "viewer")
    assert made.returncode == 0, made.stderr
    viewer_key = made.stdout.strip()
    assert viewer_key.startswith("ordo_") and "wall-screen" in run(env, "tokens", "list").stdout

    as_viewer = {**env, "ORDO_TOKEN": viewer_key}
    denied = run(as_viewer, "inventory", "transfer", "RICE-5KG", "BJ-01", "GZ-01", "1")
    assert denied.returncode == 2 and "inventory:write" in denied.stderr
    assert run(as_viewer, "tokens", "list").returncode == 2  # users:admin
    assert run(as_viewer, "inventory", "audit").returncode == 0  # reading is a viewer's

    assert run(env, "tokens", "revoke", "wall-screen").returncode == 0
    revoked = run(as_viewer, "inventory", "audit")
    assert revoked.returncode == 2 and "revoked" in revoked.stderr
    assert run({**env, "ORDO_TOKEN": "ordo_nope_nope"}, "inventory", "audit").returncode == 2

    erased = run(env, "privacy", "erase", "--customer", "nobody-at-all")
    assert erased.returncode == 0 and "0 order(s)" in erased.stdout, erased.stderr
    assert run(env, "privacy", "purge", "--older-than-days", "30").returncode == 0
    rotated = run(env, "privacy", "rotate-key", "--codec")
    assert rotated.returncode == 0 and "codec-2" in rotated.stdout
    assert (tmp_path / "keys" / "codec-2.key").exists()
    assert run(as_viewer, "privacy", "erase", "--customer", "x").returncode == 2

    listed = run(env, "audit", "list", "--json")
    actions = [e["action"] for e in json.loads(listed.stdout)]
    assert actions[:6] == ["privacy.erased", "token.revoked", "token.created", "user.password_reset",
                           "user.enabled", "user.disabled"]
    verified = run(env, "audit", "verify")
    assert verified.returncode == 0 and "audit trail intact" in verified.stdout
