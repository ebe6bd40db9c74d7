"""A real Chromium (Debian's, driven by Playwright through `executable_path`) against a real
stack (`ordo up` on SQLite, as the end-to-end tests run it). The tests run when Chromium is
installed; `ORDO_TEST_BROWSER=1` (set by .ci/run) makes a missing browser a failure, not a skip."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from config.settings import Settings
from domain.access import SYSTEM, Role
from services.audit import Audit
from services.people import People
from store.db import make_engine
from tests.e2e.conftest import Ordo, _running

REQUIRED = os.environ.get("ORDO_TEST_BROWSER", "") not in ("", "0")
PASSWORD = "console-test-pass-1"
PEOPLE = {
    "olga": (Role.OPERATOR, None),
    "vic": (Role.VIEWER, None),
    "tina": (Role.OPERATOR, ["tmall"]),
    "rita": (Role.RULES_ADMIN, None),
}


def chromium_path() -> str | None:
    return (
        os.environ.get("ORDO_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def pytest_report_header() -> str:
    found = chromium_path()
    return (
        f"browser tests: Chromium at {found}"
        if found
        else "browser tests: SKIPPED, no Chromium (apt-get install chromium; .ci/run installs it)"
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    found = chromium_path()
    if found is None:
        if REQUIRED:
            pytest.fail("ORDO_TEST_BROWSER is set but no Chromium is installed: apt-get install chromium")
        pytest.skip("no Chromium here: the browser tests did NOT run (apt-get install chromium)")
    return found


@pytest_asyncio.fixture(scope="module")
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, chromium: str
) -> AsyncIterator[Ordo]:
    var = tmp_path_factory.mktemp("console")
    async for ordo in _running(request, var, f"sqlite+aiosqlite:///{var / 'ordo.db'}"):
        settings = Settings(database_url=ordo.env["ORDO_DATABASE_URL"], var_dir=var)
        engine = make_engine(settings.effective_database_url)
        try:
            people = People(engine, engine, Audit(engine, engine, settings))
            for name, (role, channels) in PEOPLE.items():
                await people.add_user(SYSTEM, name, role, PASSWORD, channels)
        finally:
            await engine.dispose()
        yield ordo


@pytest_asyncio.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@contextlib.asynccontextmanager
async def signed_in(
    browser: Browser, stack: Ordo, username: str, locale: str = "en-US", password: str = PASSWORD
) -> AsyncIterator[Page]:
    """A fresh browser context (its own cookies) signed in through the login form."""
    context = await browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await page.goto(f"{stack.api}/console")
        await page.get_by_test_id("username").fill(username)
        await page.get_by_test_id("password").fill(password)
        await page.get_by_test_id("signin").click()
        await page.get_by_test_id("page-title").wait_for()
        yield page
        assert errors == [], errors
    finally:
        await context.close()


def admin_password(stack: Ordo) -> str:
    return Path(stack.env["ORDO_VAR_DIR"], "admin.password").read_text().strip()
