"""The live operations page in headless Chromium while applications flow through the platform.

Chromium is Debian's package (deploy/chromium/ensure installs it when missing), driven by
Playwright. Set OPS_PAGE_SCREENSHOT to a path to keep a picture of the page (docs/ops-page.png).
"""

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright

from socialsvc_common.apikeys import Role
from tests.harness import free_port, wait_answering

from .applicants import mixed_applications
from .conftest import Platform
from .ops_tool import poll
from .test_journey import submit_all

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
STAGES_AFTER_DECISION = ("decided", "place", "waitlisted")


def chromium() -> str:
    found = subprocess.run(
        [ROOT / "deploy/chromium/ensure"], capture_output=True, text=True, check=True, timeout=900
    )
    return found.stdout.strip()


def start_page(platform: Platform, bootstrap: str, port: int) -> "subprocess.Popen[bytes]":
    services = [f"--service={name}={url}" for name, url in platform.urls.items()]
    groups = [f"--group={group}" for group in platform.groups.values()]
    # A service that is not there: its outbox age must read "unknown", not fail the page.
    ghost = f"--service=ghost=http://127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "socialsvc_ops", "serve", f"--port={port}", "--since=2m"]
    # The page reads the services' /metrics as a monitor.
    metrics_key = Path(platform.extra["key_store"]).parent / "monitor.key"
    metrics_key.write_text(platform.keys[Role.MONITOR])
    return subprocess.Popen(
        [*command, *services, ghost, *groups],
        env={
            **os.environ,
            "SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            # The page admits the operators of the platform's own key store.
            "OPS_API_KEYS_FILE": str(platform.extra["key_store"]),
            "OPS_METRICS_KEY_FILE": str(metrics_key),
        },
    )


@pytest.fixture
async def page_url(platform: Platform, bootstrap: str) -> AsyncIterator[str]:
    port = free_port()
    server = start_page(platform, bootstrap, port)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_answering(
            url + "/api/snapshot", seconds=90, headers=operator(platform), process=server
        )
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def operator(platform: Platform) -> dict[str, str]:
    return {"X-API-Key": platform.keys[Role.OPERATOR]}


async def log_in(page: Page, key: str) -> str:
    """Submits `key` through the login form; the message the form shows, if any."""
    await page.fill("#key", key)
    async with page.expect_navigation():
        await page.click("#login button")
    return (await page.text_content("#login-message") or "") if "/login" in page.url else ""


async def table(page: Page, table_id: str) -> list[list[str]]:
    rows: list[list[str]] = await page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    return rows


async def stage_counts(page: Page) -> dict[str, int]:
    return {stage: int(count) for stage, count in await table(page, "stages")}


async def test_the_page_follows_the_flow_and_shows_a_journey_without_personal_data(
    platform: Platform, page_url: str
) -> None:
    forms = mixed_applications(12, seed=int(time.time()))
    personal = {
        value
        for form in forms
        for key, value in form["applicant"].items()
        if key in {"fin", "first_name", "last_name", "mobile_phone", "email"} and value
    }
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(page_url)
        # Nobody logged in: the login form, and not one figure.
        assert page.url == page_url + "/login"
        assert await page.is_visible("#login #key")
        assert await page.query_selector("#stages") is None
        assert "not known" in await log_in(page, f"ssk_{'0' * 43}")
        assert await log_in(page, platform.keys[Role.OPERATOR]) == ""
        assert page.url == page_url + "/"
        cookies = {c["name"]: c for c in await page.context.cookies()}
        assert cookies["ops_session"]["httpOnly"]
        assert cookies["ops_session"]["sameSite"] == "Strict"
        assert cookies["ops_session"]["value"] != platform.keys[Role.OPERATOR]
        await page.wait_for_function(
            "document.getElementById('status').textContent.startsWith('live')"
        )
        # Marks this document: the same mark later proves the figures changed without a reload.
        await page.evaluate("window.__sameDocument = true")
        before = await stage_counts(page)

        async with platform.client("intake", timeout=30) as client:
            ids = await submit_all(client, forms)

        async def moved() -> bool:
            now = await stage_counts(page)
            decided = sum(n for s, n in now.items() if s.startswith(STAGES_AFTER_DECISION))
            earlier = sum(n for s, n in before.items() if s.startswith(STAGES_AFTER_DECISION))
            return sum(now.values()) >= sum(before.values()) + len(ids) and decided >= earlier + 12

        await poll("the stage counts moving", moved)
        assert await page.evaluate("window.__sameDocument") is True
        assert int(await page.text_content("#rate") or 0) >= len(ids)
        lag = {row[0]: row for row in await table(page, "lag")}
        assert set(platform.groups.values()) <= set(lag)
        outbox = dict(await table(page, "outbox"))
        assert outbox["ghost"] == "unknown"
        assert set(platform.urls) <= set(outbox)
        assert all(outbox[name] != "unknown" for name in platform.urls), outbox

        await page.fill("#application-id", ids[0])
        await page.click("#search button")

        async def journey() -> list[str]:
            steps = [row[2] for row in await table(page, "journey")]
            return steps if "eligibility.decision.made" in steps else []

        # In the order things happened: the reception first; the message telling of it may be
        # delivered before or after the decision, as notifications and eligibility both read it.
        steps = await poll("the journey up to the decision", journey)
        assert steps[0] == "intake.application.received"
        assert steps.count("intake.application.received") == 1

        if path := os.environ.get("OPS_PAGE_SCREENSHOT"):
            await page.screenshot(path=path, full_page=True)
        shown = await page.inner_text("body")
        await page.click("#logout button")
        await page.wait_for_url(page_url + "/login")
        await page.goto(page_url)
        assert page.url == page_url + "/login", "the session ended with the logout"
        await browser.close()
    async with httpx.AsyncClient(base_url=page_url, timeout=60) as client:
        refused = await client.get("/api/snapshot")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert set(refused.json()) == {"type", "title", "status", "detail", "instance"}
        pushed = (await client.get("/api/snapshot", headers=operator(platform))).text
        traced = (await client.get(f"/api/journey/{ids[0]}", headers=operator(platform))).text
    for value in personal:
        assert value not in shown
        assert value not in pushed
        assert value not in traced
