"""Schemathesis against the OpenAPI document, every operation, with a valid admin key and
with none: no 5xx either way, and without a credential no protected route answers 2xx (401,
before anything is read). Temporal is pointed at a closed port, so a route that needs it
answers 503 "Temporal is unavailable": that one 5xx is the honest answer and is allowed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err

from api.app import create_app
from api.security import PUBLIC, ROUTES, SIGNED
from config.settings import Settings
from tests.harness import api_key, prepare_database

EXAMPLES = 12


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    var: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{var / 'ordo.db'}"
    asyncio.run(prepare_database(url))
    config = Settings(database_url=url, var_dir=var, temporal_address="127.0.0.1:1")
    key = asyncio.run(api_key(config))
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "the API did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", key
    server.should_exit = True
    thread.join(timeout=30)


def _allowed_5xx(response: Any) -> bool:
    return response.status_code == 503 and "Temporal" in response.text


def _each_operation(served: tuple[str, str], check: Any) -> int:
    """Run `check(case)` on EXAMPLES generated cases of every operation; operations checked.
    (schemathesis's pytest plugin does not run on this pytest: its strategies are used directly.)"""
    schema = schemathesis.openapi.from_url(f"{served[0]}/openapi.json")
    checked = 0
    for result in schema.get_all_operations():
        assert not isinstance(result, Err), result
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def run(case: Any) -> None:
            check(case)

        run()
        checked += 1
    return checked


def test_with_a_valid_key_no_request_gets_a_5xx(served: tuple[str, str]) -> None:
    def check(case: Any) -> None:
        response = case.call(base_url=served[0], headers={"Authorization": f"Bearer {served[1]}"})
        assert response.status_code < 500 or _allowed_5xx(response), (case.method, case.path, response.text)

    assert _each_operation(served, check) >= 45


def test_without_a_credential_no_protected_route_answers(served: tuple[str, str]) -> None:
    def check(case: Any) -> None:
        response = case.call(base_url=served[0])
        assert response.status_code < 500 or _allowed_5xx(response), (case.method, case.path, response.text)
        if ROUTES[(case.method.upper(), case.path)] not in (PUBLIC, SIGNED):
            assert response.status_code == 401, (case.method, case.path, response.status_code)

    assert _each_operation(served, check) >= 45
