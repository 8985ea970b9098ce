"""The workspace as a process on the e2e platform, and a headless Chromium to use it with.

Each test module opens a `Desk` in a fixture of its own: the workspace (`python -m workspace`)
started against the platform's four services and key store, and a browser (Debian's Chromium,
deploy/chromium/ensure, driven by Playwright). With WORKSPACE_SCREENSHOTS=1 a test writes the
pictures the README shows (docs/workspace-*.png)."""

import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from socialsvc_common.apikeys import Role
from socialsvc_common.explanations import application_ref
from tests.harness import free_port, until, wait_answering

from .conftest import Platform

ROOT = Path(__file__).resolve().parents[2]


def chromium() -> str:
    found = subprocess.run(
        [ROOT / "deploy/chromium/ensure"], capture_output=True, text=True, check=True, timeout=900
    )
    return found.stdout.strip()


@dataclass
class Desk:
    url: str
    log: Path
    browser: Browser

    async def page(self, language: str = "en") -> Page:
        """A fresh browser context (no cookies) on the sign-in form, in `language`."""
        context = await self.browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await page.goto(f"{self.url}/signin?lang={language}")
        return page

    async def sign_in(self, page: Page, key: str) -> str:
        """Signs in with `key` on the form; the refusal the form shows, or ''."""
        await page.fill("#key", key)
        async with page.expect_navigation():
            await page.press("#key", "Enter")
        if "/signin" in page.url:
            return (await page.text_content("#signin-message") or "").strip()
        return ""

    async def open(self, page: Page, path: str) -> None:
        await page.goto(self.url + path)

    async def submit(self, page: Page, button: str) -> None:
        """Presses a form's button and waits for the page the form leads to."""
        async with page.expect_navigation():
            await page.click(button)

    async def flash(self, page: Page) -> str:
        shown = await page.query_selector("#flash")
        return (await shown.inner_text()).strip() if shown else ""

    async def problems(self, page: Page) -> list[str]:
        found: list[str] = await page.eval_on_selector_all(
            "[role=alert]", "nodes => nodes.map(n => n.innerText.trim())"
        )
        return found

    async def rows(self, page: Page, table: str) -> list[list[str]]:
        found: list[list[str]] = await page.eval_on_selector_all(
            f"#{table} tbody tr",
            "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))",
        )
        return found

    async def screenshot(self, page: Page, name: str) -> None:
        if os.environ.get("WORKSPACE_SCREENSHOTS") == "1":
            await page.screenshot(path=ROOT / "docs" / name, full_page=True)

    def logged(self) -> str:
        return self.log.read_text(encoding="utf-8")


@contextlib.asynccontextmanager
async def open_desk(platform: Platform, tmp_path: Path, **settings: Any) -> AsyncIterator[Desk]:
    port = free_port()
    log = tmp_path / "workspace.log"
    env = {
        **os.environ,
        **{f"WORKSPACE_{s.upper()}_URL": url for s, url in platform.urls.items()},
        "WORKSPACE_API_KEYS_FILE": str(platform.extra["key_store"]),
        "WORKSPACE_HTTP_PORT": str(port),
        "WORKSPACE_LOG_JSON": "true",
        **{f"WORKSPACE_{k.upper()}": str(v) for k, v in settings.items()},
    }
    server = platform.forks.start(["workspace"], env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_answering(url + "/health", seconds=60, process=server)
        async with async_playwright() as driver:
            browser = await driver.chromium.launch(
                executable_path=chromium(), args=["--no-sandbox"]
            )
            try:
                yield Desk(url, log, browser)
            finally:
                await browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


async def submitted(platform: Platform, form: dict[str, Any]) -> str:
    """Submits `form` to intake as the platform's (unscoped) social worker; the application id."""
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as intake:
        answer = await intake.post("/applications", json=form)
    assert answer.status_code == 202, answer.text
    application_id: str = answer.json()["application_id"]
    return application_id


async def status_of(platform: Platform, application_id: str) -> dict[str, Any]:
    async with platform.client("intake", Role.OPERATOR, timeout=30) as intake:
        found: dict[str, Any] = (await intake.get(f"/applications/{application_id}")).json()
    return found


async def reaches(platform: Platform, application_id: str, *statuses: str) -> dict[str, Any]:
    """The application once intake shows it in one of `statuses` (fails after 90 s)."""

    async def check() -> dict[str, Any] | None:
        found = await status_of(platform, application_id)
        return found if found.get("status") in statuses else None

    found = await until(check)
    assert found, f"{application_id} never reached {statuses}"
    return dict(found)


def reference(application_id: str) -> str:
    return application_ref(uuid.UUID(application_id))
