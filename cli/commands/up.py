"""`ordo up`: start the whole embedded stack as child processes (`cli.stack`) and drive the
demo through the API (`cli.demo`).

Everything logs to var/logs/<name>.log; the terminal shows a live table. With
`--until-done` it exits once every demo order has settled and both demo sides say they are
done, printing a JSON summary as its last line.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import typer
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from cli import history
from cli.demo.api import DemoApiError, OrdoApi
from cli.demo.orders import demo_orders
from cli.demo.returns import ReturnsDemo
from cli.demo.stock import StockDemo, stock_summary, stock_table
from cli.processes import StartupError, Supervisor, check_ports, find_binary
from cli.stack import port_of, prepare_database, start_stack
from config import queues
from config.settings import Settings, get_settings
from domain.status import SETTLED
from store.db import make_engine

SETTLED_NAMES = {s.value for s in SETTLED}
console = Console()
err = Console(stderr=True)
# A child that crashes this often within the window is crash-looping: the stack stops and
# says why. Temporal is restarted too: its state is in var/temporal.db.
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
SUBMIT_CONCURRENCY = 8
REFRESH_SECONDS = 0.5


async def submit(api: OrdoApi, orders: list[dict[str, Any]]) -> list[str]:
    sem = asyncio.Semaphore(SUBMIT_CONCURRENCY)

    async def one(o: dict[str, Any]) -> str:
        async with sem:
            try:
                return await api.submit(o)
            except DemoApiError as exc:
                raise StartupError(f"demo order refused: {exc}") from None

    return list(await asyncio.gather(*(one(o) for o in orders)))


def summary_table(counts: dict[str, int], total: int, elapsed: float) -> Table:
    table = Table(title=f"Demo orders ({total}) after {elapsed:.0f}s", expand=False)
    table.add_column("status")
    table.add_column("orders", justify="right")
    for status, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        style = "green" if status == "completed" else "yellow" if status in SETTLED_NAMES else ""
        table.add_row(f"[{style}]{status}[/]" if style else status, str(n))
    return table


def urls_panel(settings: Settings) -> Panel:
    ui_host = settings.temporal_address.rsplit(":", 1)[0]
    return Panel(
        f"console          {settings.api_url}/console  (work queue, orders, inventory, rules, dashboard)\n"
        f"Temporal Web UI  http://{ui_host}:{settings.temporal_ui_port}\n"
        f"API docs         {settings.api_url}/docs   metrics {settings.api_url}/metrics\n"
        f"logs             {settings.var_dir / 'logs'}\n"
        f"sign in          admin, password in {settings.admin_password_file}; API key in "
        f"{settings.admin_token_file}\n"
        "Ctrl-C stops everything; `make run` again resumes.", title="Ordo is up")


WORKER_METRICS_PORT = 9470  # the orders worker's; the next queues take the next ports (README, Metrics)


async def seed_history(settings: Settings, orders: int, console: Console) -> None:
    """Months of past orders for the dashboard, once (a resumed stack keeps its history)."""
    engine = make_engine(settings.effective_database_url)
    try:
        if await history.present(engine):
            return
        with console.status(f"writing {orders} past orders for the dashboard (ordo history seed)..."):
            await history.seed(engine, orders, 90)
    finally:
        await engine.dispose()


async def run_up(settings: Settings, demo_count: int, until_done: bool, timeout: float,
                 sim_failure_rate: float, tracking_step: float, console: Console,
                 history_orders: int = 0) -> int:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    if not settings.worker_metrics_ports:
        settings = settings.model_copy(update={"worker_metrics_ports": [
            WORKER_METRICS_PORT + i for i in range(len(queues.ALL))]})
    check_ports({"Temporal": port_of(settings.temporal_address), "Temporal UI": settings.temporal_ui_port,
                 "API": settings.api_port, "WMS simulator": port_of(settings.wms_url),
                 "carrier simulator": port_of(settings.carriers_url),
                 "payment simulator": port_of(settings.payments_url),
                 "marketplace simulator": port_of(settings.channels_url),
                 **{f"worker metrics ({q})": p for q, p in zip(queues.ALL, settings.worker_metrics_ports,
                                                                strict=False)}})
    find_binary("temporal")
    await prepare_database(settings, console)
    if demo_count and history_orders:
        await seed_history(settings, history_orders, console)
    sup = Supervisor(settings.var_dir / "logs")
    started = time.monotonic()
    try:
        with console.status("starting Temporal, the simulators, the API and the workers..."):
            await start_stack(sup, settings, sim_failure_rate, tracking_step)
        console.print(urls_panel(settings))
        async with httpx.AsyncClient(timeout=30) as http:
            api = OrdoApi(settings, http)
            if not demo_count:
                return await _watch(OrdoApi(settings, http, tries=1), sup, [], until_done, timeout, started,
                                    console)
            tag = datetime.now(UTC).strftime("demo%Y%m%d%H%M%S")
            orders = demo_orders(await api.products(), demo_count, tag)
            with console.status(f"submitting {demo_count} demo orders..."):
                order_ids = await submit(api, orders)
            unpaid = [oid for oid, o in zip(order_ids, orders, strict=True)
                      if o["payment"]["status"] == "awaiting"]
            stock_demo = StockDemo(settings, api)
            returns_demo = ReturnsDemo(api)
            background = [asyncio.create_task(stock_demo.run(unpaid)),
                          asyncio.create_task(returns_demo.run(order_ids, timeout))]
            try:
                return await _watch(OrdoApi(settings, http, tries=1), sup, order_ids, until_done, timeout,
                                    started, console, stock_demo, returns_demo)
            finally:
                for task in background:
                    task.cancel()
    finally:
        with console.status("stopping every process..."):
            sup.stop()


def _restart_dead(sup: Supervisor, console: Console) -> None:
    for child in sup.restart_dead(MAX_RESTARTS, RESTART_WINDOW_SECONDS):
        console.print(f"[yellow]{child.name} exited; restarted it[/]")


async def _watch(api: OrdoApi, sup: Supervisor, order_ids: list[str], until_done: bool,
                 timeout: float, started: float, console: Console, stock: StockDemo | None = None,
                 returns: ReturnsDemo | None = None) -> int:
    counts: dict[str, int] = {}
    table: Table | None = None
    with Live(console=console, refresh_per_second=2) as live:
        while True:
            _restart_dead(sup, console)
            elapsed = time.monotonic() - started
            try:  # the API may be restarting (a crash, a test killing it): show what was last seen
                counts = (await api.statuses(order_ids))["by_status"] if order_ids else await api.counts()
                table = await stock_table(api) if stock is not None else None
                note = ""
            except (httpx.TransportError, DemoApiError) as exc:
                note = f"[yellow]the API is not answering ({exc}); waiting for it[/]"
            parts: list[Any] = [summary_table(counts, len(order_ids) or sum(counts.values()), elapsed)]
            if note:
                parts.append(note)
            if stock is not None:
                parts += [table or "...", Panel("\n".join(stock.events[-12:]) or "...", title="stock events")]
            if returns is not None:
                parts.append(Panel("\n".join(returns.events[-8:]) or "waiting for delivered orders...",
                                   title="returns (逆向物流)"))
            live.update(Group(*parts))
            settled = sum(n for s, n in counts.items() if s in SETTLED_NAMES)
            demos_done = (stock is None or stock.done) and (returns is None or returns.done)
            if until_done and settled >= len(order_ids) and demos_done:
                break
            if until_done and elapsed > timeout:
                console.print(f"[red]{len(order_ids) - settled} orders not settled after "
                              f"{timeout:.0f}s; see {sup.log_dir}[/]")
                return 1
            await asyncio.sleep(REFRESH_SECONDS)
    result: dict[str, Any] = {"orders": len(order_ids), "completed": counts.get("completed", 0),
                              "cancelled": counts.get("cancelled", 0),
                              "exception": counts.get("awaiting_operator", 0),
                              "seconds": round(time.monotonic() - started, 1)}
    if returns is not None:
        result["returns"] = returns.summary
    if stock is not None:
        result["stock"] = {**stock.summary, **await stock_summary(stock.api)}
    console.print()
    print(json.dumps(result), flush=True)  # the last line, for scripts
    return 0


def up(
    demo_orders: int = typer.Option(30, help="demo orders to submit (0: just serve)"),
    until_done: bool = typer.Option(False, help="exit once every demo order is settled"),
    timeout: float = typer.Option(600, help="with --until-done: give up after this many seconds"),
    sim_failure_rate: float = typer.Option(0.02, help="share of simulator calls that fail with 500"),
    tracking_step: float = typer.Option(0.5, help="seconds between simulated tracking events"),
    history_orders: int = typer.Option(3000, help="with demo orders: past orders written once for the "
                                       "dashboard (0: none)"),
) -> None:
    """Start Temporal, the simulators, the API and one worker per queue; run demo orders."""
    # A job started in the background (`make run &`, a CI step, a test runner's worker) begins
    # with SIGINT ignored, and Python keeps it so: then `kill -INT` would not stop the stack.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = asyncio.run(run_up(get_settings(), demo_orders, until_done, timeout,
                                  sim_failure_rate, tracking_step, console, history_orders))
    except StartupError as exc:
        err.print(f"ordo up: {exc}", style="red", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("stopped: every child process was shut down; `ordo up` resumes from var/")
        raise typer.Exit(130) from None
    raise typer.Exit(code)
