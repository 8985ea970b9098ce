"""Scope in the workspace, enforced by the services: a social worker of another district finds
nothing of a Xətai case, cannot open it, and a note or facts they force through a form change
nothing; another provider sees none of the test provider's offers and cannot accept one.

Needs intake's casework routes and assignment's provider routes (issue 18, helpers A and B): run
after they are merged."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from socialsvc_common.apikeys import Role

from .applicants import mixed_applications
from .conftest import Platform
from .workspace_desk import Desk, open_desk, reaches, reference, status_of, submitted

pytestmark = pytest.mark.integration


@pytest.fixture
def platform_keys() -> dict[str, tuple[Role, dict[str, Any]]]:
    return {
        "kamran": (Role.SOCIAL_WORKER, {"districts": ["Gəncə"]}),
        "hc-team": (Role.PROVIDER, {"provider": "hc-xetai"}),
    }


@pytest.fixture
async def desk(platform: Platform, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(platform, tmp_path) as opened:
        yield opened


async def csrf(page: Page) -> str:
    token = await page.get_attribute("input[name=csrf]", "value")
    assert token
    return token


async def test_another_district_and_another_provider_see_and_change_nothing(
    platform: Platform, desk: Desk
) -> None:
    seed = uuid.uuid4().int % 10_000
    waiting_form = mixed_applications(10, seed=seed)[9]
    child_form = mixed_applications(10, seed=seed + 1)[2]
    for form in (waiting_form, child_form):
        form["applicant"]["district"] = "Xətai"
    waiting = await submitted(platform, waiting_form)
    child = await submitted(platform, child_form)
    await reaches(platform, waiting, "needs_information")
    await reaches(platform, child, "placed")

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.extra["keys"]["kamran"]) == ""
    queued = [row[0] for row in await desk.rows(page, "table-needs_information")]
    assert reference(waiting) not in queued
    await desk.open(page, "/search")
    await page.fill("#fin", waiting_form["applicant"]["fin"])
    await desk.submit(page, "#search button[type=submit]:not([name])")
    assert await desk.rows(page, "results") == []
    assert "No case matches." in await page.inner_text("main")

    for path in (f"/cases/{waiting}", f"/cases/{waiting}/facts"):
        shown = await page.goto(desk.url + path)
        assert shown is not None
        assert shown.status == 404
        assert "Not found, or not within your districts." in await page.inner_text("main")
        assert waiting_form["applicant"]["last_name"] not in await page.inner_text("body")

    await desk.open(page, "/search")
    token = await csrf(page)
    note = await page.request.post(
        f"{desk.url}/cases/{waiting}/notes", form={"csrf": token, "text": "forced"}
    )
    facts = await page.request.post(
        f"{desk.url}/cases/{waiting}/facts",
        form={"csrf": token, "monthly_household_income_azn": "100"},
    )
    assign = await page.request.post(
        f"{desk.url}/cases/{waiting}/assignee", form={"csrf": token, "me": "1"}
    )
    for answer in (note, facts, assign):
        assert "Not found, or not within your districts." in await answer.text()
    async with platform.client("intake", Role.ADMINISTRATOR) as intake:
        assert (await intake.get(f"/cases/{waiting}/notes")).json() == []
        assert (await intake.get(f"/cases/{waiting}")).json()["assigned_to"] is None
    assert (await status_of(platform, waiting))["status"] == "needs_information"

    other = await desk.page(language="en")
    assert await desk.sign_in(other, platform.extra["keys"]["hc-team"]) == ""
    offered = [row[0] for row in await desk.rows(other, "table-offers")]
    assert reference(child) not in offered
    async with platform.client("assignment", Role.OPERATOR) as assignment:
        found = await assignment.get("/placements", params={"application_id": child})
    [placement] = found.json()
    placement_id = placement.get("placement_id") or placement["id"]
    shown = await other.goto(f"{desk.url}/provider/placements/{placement_id}")
    assert shown is not None
    assert shown.status == 404
    accepted = await other.request.post(
        f"{desk.url}/provider/placements/{placement_id}/accept", form={"csrf": await csrf(other)}
    )
    assert "Not found, or not within your districts." in await accepted.text()
    async with platform.client("assignment", Role.OPERATOR) as assignment:
        found = await assignment.get("/placements", params={"application_id": child})
    assert found.json()[0]["status"] == "offered"
