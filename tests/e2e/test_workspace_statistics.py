"""The ministry's figures in headless Chromium on the whole platform, the statistics service
included: applications submitted to intake are counted by the statistics service from the
events, and the workspace's page shows them by keyboard, filtered by district and region. A
district with fewer than five applications reads "fewer than 5", on the page and in the CSV the
page downloads; the Excel download is a workbook."""

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from socialsvc_common.apikeys import Role
from tests.harness import READ_MODELS, until
from tests.unit.statistics_figures import SECTION_IDS

from .applicants import mixed_applications
from .conftest import Platform
from .test_workspace_signin import tab_to
from .workspace_desk import Desk, open_desk, submitted

pytestmark = pytest.mark.integration


@pytest.fixture
def platform_read_models() -> tuple[str, ...]:
    return READ_MODELS


BAKU = timezone(timedelta(hours=4))
# Two districts of one economic region that no other test applies from: FEW's two applications
# stay below k only while no other run on the broker applies from it at the same time.
MANY, FEW = "Qəbələ", "Qax"
REGION = "Şəki–Zaqatala"


@pytest.fixture
async def desk(platform: Platform, tmp_path: Path) -> AsyncIterator[Desk]:
    assert "statistics" in platform.urls, "the platform runs no statistics service"
    async with open_desk(platform, tmp_path) as opened:
        yield opened


def elderly_in(district: str, count: int) -> list[dict[str, Any]]:
    """Elderly people living alone who ask for home care (profile 0), in `district`."""
    forms = [mixed_applications(1, seed=uuid.uuid4().int % 100_000)[0] for _ in range(count)]
    for form in forms:
        form["applicant"]["district"] = district
    return forms


def contents(path: Path) -> bytes:
    return path.read_bytes()


def this_month() -> str:
    return datetime.now(BAKU).strftime("%B %Y")


async def month_row(desk: Desk, page: Page) -> list[str]:
    """This month's row of the applications by month, if the page shows it."""
    rows = await desk.rows(page, "table-applications_by_month")
    return next((row for row in rows if row[0] == this_month()), [])


def at_least(wanted: int) -> Callable[[str], bool]:
    """A figure shown (not withheld) of at least `wanted`: another run on the shared broker
    may add its applications to the public streams the statistics service counts."""
    return lambda value: value.replace(",", "").isdigit() and int(value.replace(",", "")) >= wanted


async def shown(desk: Desk, page: Page, path: str, fits: Callable[[str], bool]) -> list[str]:
    """This month's row on the page at `path` once its figure fits (the statistics service
    counts from the events, a moment after intake took the applications); the last row seen."""
    last: list[str] = []

    async def counted() -> bool:
        nonlocal last
        await desk.open(page, path)
        last = await month_row(desk, page)
        return len(last) == 2 and fits(last[1])

    await until(counted, 180)
    return last


async def test_the_figures_of_the_platform_by_keyboard_with_small_ones_withheld(
    platform: Platform, desk: Desk
) -> None:
    for form in elderly_in(MANY, 6) + elderly_in(FEW, 2):
        await submitted(platform, form)

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.keys[Role.OPERATOR]) == ""
    await tab_to(page, "nav-statistics")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url == desk.url + "/statistics"
    sections: list[str] = await page.eval_on_selector_all(
        "section.figures", "nodes => nodes.map(n => n.id.replace('section-', ''))"
    )
    assert sections == list(SECTION_IDS)
    assert await page.get_attribute("#chart-served_by_direction", "role") == "img"
    assert "k = 5" in (await page.text_content("#footnote") or "")

    many = await shown(desk, page, f"/statistics?district={MANY}", at_least(6))
    assert at_least(6)(many[1]), many
    await desk.open(page, "/statistics")
    await tab_to(page, "district")
    await page.select_option("#district", MANY)
    await tab_to(page, "apply")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert "district=Q%C9%99b%C9%99l%C9%99" in page.url
    assert await month_row(desk, page) == many
    await desk.screenshot(page, "workspace-statistics.png")

    few = await shown(desk, page, f"/statistics?district={FEW}", "fewer than 5".__eq__)
    assert few == [this_month(), "fewer than 5"]
    withheld = await page.eval_on_selector_all(
        "#chart-applications_by_month g.withheld text", "nodes => nodes.map(n => n.textContent)"
    )
    assert "fewer than 5" in withheld

    async with page.expect_download() as csv_download:
        await page.click("#export-csv")
    csv_file = await csv_download.value
    assert csv_file.suggested_filename.startswith("statistics")
    assert csv_file.suggested_filename.endswith(".csv")
    text = contents(await csv_file.path()).decode("utf-8")
    lines = [line for line in text.splitlines() if line.startswith("applications_by_month,")]
    assert lines
    assert all(line.endswith((",<5", ",0")) for line in lines), lines

    async with page.expect_download() as xlsx_download:
        await page.click("#export-xlsx")
    workbook = await xlsx_download.value
    assert workbook.suggested_filename.endswith(".xlsx")
    assert contents(await workbook.path())[:2] == b"PK"

    await desk.open(page, f"/statistics?region={REGION}&district={FEW}&lang=ru")
    in_russian = await desk.rows(page, "table-applications_by_month")
    assert [row[1] for row in in_russian] == ["меньше 5"]

    in_region = await shown(desk, page, f"/statistics?region={REGION}&lang=en", at_least(8))
    assert at_least(int(many[1].replace(",", "")) + 2)(in_region[1]), (many, in_region)
