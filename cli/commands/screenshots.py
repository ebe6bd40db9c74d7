"""`ordo screenshots`: a picture of each console page in English and Chinese, for the README,
taken by Debian's Chromium (driven by Playwright) from a running Ordo."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import typer
from playwright.async_api import Page, async_playwright
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from config.settings import PROJECT_ROOT, get_settings

PAGES = ("queue", "orders", "order", "inventory", "rules", "dashboard")
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
err = Console(stderr=True)
# the page has replaced its "loading" text with what it shows
RENDERED = ("() => { const p = document.querySelector('[data-testid=page]'); "
            "return p && p.children.length > 0; }")


async def _first_waiting(page: Page) -> str:
    await page.get_by_test_id("page-title").wait_for()
    link = page.locator("[data-testid^='row-'] a").first
    if await link.count():
        return str(await link.text_content())
    return ""


async def take(url: str, username: str, password: str, out: Path, chromium: str) -> list[Path]:
    """Sign in through the form, then each page in each language, full width (`out` exists)."""
    written: list[Path] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            with Progress(TextColumn("screenshots"), BarColumn(), MofNCompleteColumn(), console=err,
                          transient=True) as bar:
                task = bar.add_task("pages", total=len(PAGES) * len(LANGUAGES))
                for lang, locale in LANGUAGES.items():
                    context = await browser.new_context(locale=locale,
                                                        viewport={"width": 1440, "height": 1000})
                    page = await context.new_page()
                    await page.goto(f"{url}/console")
                    await page.evaluate(f"localStorage.setItem('ordo.lang', '{lang}')")
                    await page.get_by_test_id("username").fill(username)
                    await page.get_by_test_id("password").fill(password)
                    await page.get_by_test_id("signin").click()
                    waiting = await _first_waiting(page)
                    for name in PAGES:
                        target = f"order/{waiting}" if name == "order" else name
                        await page.goto(f"{url}/console#/{target}")
                        await page.wait_for_function(RENDERED)
                        await page.wait_for_load_state("networkidle")
                        path = out / f"{name}-{lang}.png"
                        await page.screenshot(path=str(path), full_page=False)
                        written.append(path)
                        bar.advance(task)
                    await context.close()
        finally:
            await browser.close()
    return written


def screenshots(
    out: Path = typer.Option(PROJECT_ROOT / "docs" / "screenshots", help="folder for the PNG files"),
    url: str = typer.Option("", help="the console's server (default: this stack's API)"),
    username: str = typer.Option("admin"),
    password_file: Path = typer.Option(None, help="default: var/admin.password"),
) -> None:
    """Screenshot every console page in English and Chinese (needs a running `ordo up` and
    Debian's Chromium: apt-get install chromium)."""
    settings = get_settings()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        err.print("no Chromium here: apt-get install chromium", style="red")
        raise typer.Exit(2)
    secret = password_file or settings.admin_password_file
    if not secret.exists():
        err.print(f"no password in {secret}: start Ordo with `make run` first, or pass --password-file",
                  style="red")
        raise typer.Exit(2)
    out.mkdir(parents=True, exist_ok=True)
    files = asyncio.run(take(url or settings.api_url, username, secret.read_text().strip(), out, chromium))
    print(json.dumps({"screenshots": [str(f) for f in files]}))
