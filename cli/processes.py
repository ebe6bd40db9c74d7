"""Start, watch and stop Ordo's child processes; check ports and binaries first so a
failure says what is wrong and how to fix it, never a bare traceback."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if `ordo up` itself dies (even by SIGKILL), so no
    Temporal server or worker is left running without its supervisor."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class StartupError(Exception):
    """Something stops Ordo from starting; the message says how to fix it."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _ephemeral_range() -> tuple[int, int]:
    """The range the kernel hands out for `bind(port=0)`; IANA's when the OS does not say."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on right now, for stacks that must not clash with `ordo up`.

    They are picked below the kernel's ephemeral range on purpose: between picking a port
    and the child binding it, the Temporal dev server asks the kernel for free ports of its
    own (its history, matching and worker services), and a port the kernel picked for us
    once could be handed straight to it (CI saw `address already in use` that way)."""
    low_ephemeral, high_ephemeral = _ephemeral_range()
    low, high = (10000, low_ephemeral) if low_ephemeral - 10000 >= 1000 else (high_ephemeral + 1, 65536)
    rng = random.SystemRandom()
    ports: list[int] = []
    for _ in range(50 * count):
        port = rng.randrange(low, high)
        if port not in ports and not port_in_use(port):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise StartupError(f"could not find {count} free ports between {low} and {high - 1}")


def check_ports(ports: dict[str, int]) -> None:
    busy = [f"{name} needs port {port}" for name, port in ports.items() if port_in_use(port)]
    if busy:
        raise StartupError(
            "ports already in use: " + "; ".join(busy) + ". Stop the other process (is another "
            "`ordo up` running? `ss -ltnp` shows who holds a port) or move Ordo with "
            "ORDO_API_PORT / ORDO_TEMPORAL_ADDRESS / ORDO_TEMPORAL_UI_PORT / ORDO_WORKER_METRICS_PORTS "
            "(a JSON list, one port per queue).")


def find_binary(name: str) -> str:
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise StartupError(
            f"the `{name}` binary is missing: it comes from a Python wheel in this project's "
            "environment. Run `make run` (or `uv sync`) to install it.")
    return found


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    restarted_at: list[float] = field(default_factory=list)  # time.monotonic() of each restart

    def restarts_within(self, window: float, now: float) -> int:
        """Restarts in the last `window` seconds: a budget is a rate, so a process that
        crashes now and then over days is never given up on, one crash-looping is."""
        return sum(1 for at in self.restarted_at if now - at <= window)


@dataclass
class Supervisor:
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> Child:
        child = Child(name, self._spawn(name, argv, env or {}, cwd), self.log_dir / f"{name}.log",
                      argv, env or {}, cwd)
        self.children.append(child)
        return child

    def _spawn(self, name: str, argv: list[str], env: dict[str, str],
               cwd: Path | None) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log_file:
            return subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, cwd=cwd,
                                    env={**os.environ, **env}, start_new_session=True,
                                    preexec_fn=_die_with_parent)

    def restart(self, child: Child) -> None:
        """Workers, simulators and the API are stateless: a crashed one is started again,
        and Temporal hands its unfinished work to the new process."""
        child.restarted_at.append(time.monotonic())
        child.proc = self._spawn(child.name, child.argv, child.env, child.cwd)

    def restart_dead(self, max_restarts: int, window: float,
                     hold: frozenset[str] = frozenset()) -> list[Child]:
        """Start again every child that has exited (but those named in `hold`), unless it
        already restarted `max_restarts` times within `window` seconds: then it is
        crash-looping and the stack must stop."""
        restarted = []
        for child in self.dead():
            if child.name in hold:
                continue
            if child.restarts_within(window, time.monotonic()) >= max_restarts:
                raise StartupError(f"{child.name} stopped (exit {child.proc.returncode}) for the "
                                   f"{max_restarts + 1}th time within {window:.0f}s; its log "
                                   f"({child.log_path}) ends:\n{self.tail(child)}")
            self.restart(child)
            restarted.append(child)
        return restarted

    def dead(self) -> list[Child]:
        return [c for c in self.children if c.proc.poll() is not None]

    def tail(self, child: Child, lines: int = 15) -> str:
        try:
            text = child.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM in reverse start order (workers first, Temporal last), then SIGKILL."""
        for child in reversed(self.children):
            if child.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
        self.children.clear()
