"""Signing in to the workspace in headless Chromium, by keyboard alone: the skip link, the key
field, the refusals in the person's language, the header naming who is signed in and their
districts, moving between pages and languages with Tab and Enter, a form without its token
refused, signing out. No key and no query string in the workspace's log."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from socialsvc_common.apikeys import Role

from .conftest import Platform
from .workspace_desk import Desk, open_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def platform_keys() -> dict[str, tuple[Role, dict[str, Any]]]:
    return {"aynur": (Role.SOCIAL_WORKER, {"districts": ["Xətai", "Nəsimi"]})}


@pytest.fixture
async def desk(platform: Platform, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(platform, tmp_path) as opened:
        yield opened


async def focused(page: Page) -> dict[str, str]:
    found: dict[str, str] = await page.evaluate(
        """() => {
            const e = document.activeElement;
            const style = getComputedStyle(e);
            return {id: e.id, tag: e.tagName, text: (e.innerText || '').trim(),
                    outline: style.outlineStyle, cls: e.className};
        }"""
    )
    return found


async def tab_to(page: Page, wanted: str, *, limit: int = 40) -> dict[str, str]:
    """Presses Tab until the focused element's id or text is `wanted`; fails after `limit`."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        now = await focused(page)
        if wanted in (now["id"], now["text"]):
            assert now["outline"] != "none", f"focus on {wanted} is not visible"
            return now
    raise AssertionError(f"Tab never reached {wanted!r}")


async def test_a_worker_signs_in_and_moves_about_by_keyboard_alone(
    platform: Platform, desk: Desk
) -> None:
    page = await desk.page(language="az")
    assert await page.get_attribute("html", "lang") == "az"
    await page.keyboard.press("Tab")
    assert (await focused(page))["cls"] == "skip", "the first Tab reaches the skip link"
    await page.keyboard.press("Enter")
    await page.wait_for_url("**#main", timeout=5000)

    await tab_to(page, "key")
    await page.keyboard.type("ssk_" + "0" * 43)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "Bu açar tanınmır" in (await page.text_content("#signin-message") or "")

    await tab_to(page, "key")
    await page.keyboard.type(platform.extra["keys"]["aynur"])
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url == desk.url + "/queues"
    assert (await page.text_content("#who-name")) == "aynur"
    assert (await page.text_content("#who-role")) == "sosial işçi"
    assert (await page.text_content("#who-scope")) == "Nəsimi, Xətai"
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["ws_session"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Strict"
    assert session["value"] != platform.extra["keys"]["aynur"]

    await tab_to(page, "İş axtarışı")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url == desk.url + "/search"
    await tab_to(page, "reference")
    await page.keyboard.type("not-a-ref")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "1A2B-3C4D" in (await page.text_content("#search-wrong") or "")

    await tab_to(page, "English")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await page.get_attribute("html", "lang") == "en"
    assert (await page.text_content("#who-role")) == "social worker"
    labels = await page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        "fields => fields.filter(f => !f.labels || f.labels.length === 0).map(f => f.name)",
    )
    assert labels == [], f"controls without a label: {labels}"

    forged = await page.request.post(desk.url + "/signout", form={"csrf": "made-up"})
    assert forged.status == 403
    assert "The form has expired" in await forged.text()
    await page.goto(desk.url + "/queues")
    assert page.url == desk.url + "/queues", "a refused form changes nothing: still signed in"

    await tab_to(page, "Sign out")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url == desk.url + "/signin"
    await page.goto(desk.url + "/search")
    assert page.url == desk.url + "/signin"

    logged = desk.logged()
    assert "ssk_" not in logged
    assert "not-a-ref" not in logged
    assert '"path": "/search"' in logged


async def test_each_role_is_told_where_it_stands(platform: Platform, desk: Desk) -> None:
    page = await desk.page(language="ru")
    refused = await desk.sign_in(page, platform.keys[Role.SUBMITTER])
    assert "он для системы, а не для человека" in refused

    provider = await desk.page(language="en")
    assert await desk.sign_in(provider, platform.keys[Role.PROVIDER]) == ""
    assert provider.url == desk.url + "/provider"
    assert (await provider.text_content("#who-scope")) == "ngo-umid-reabilitasiya-xetai"
    await provider.goto(desk.url + "/queues")
    assert "This page is not for your role" in await provider.inner_text("main")

    operator = await desk.page(language="en")
    assert await desk.sign_in(operator, platform.keys[Role.OPERATOR]) == ""
    assert (await operator.text_content("#who-scope")) == "all districts"
    text = await operator.inner_text("main")
    assert "Traceback" not in text
    assert await operator.query_selector("#table-appeals") is None, "appeals are for reviewers"
