"""Decisions through the workspace, on routes every service already has: a social worker adds
the fact a needs-information decision asked for and the application is decided again; a
reviewer finds an appeal in the queue and overturns the refusal with reasons. Each change is
recorded with the person who made it in the workspace."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from socialsvc_common.apikeys import Role
from tests.harness import until

from .applicants import mixed_applications
from .conftest import Platform
from .test_appeals import lodge, refused_application
from .workspace_desk import Desk, open_desk, reaches, reference

pytestmark = pytest.mark.integration


@pytest.fixture
async def desk(platform: Platform, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(platform, tmp_path) as opened:
        yield opened


async def test_a_worker_adds_the_facts_a_decision_asked_for(platform: Platform, desk: Desk) -> None:
    # Profile 9 of the applicants: a family of four that did not state its income.
    form = mixed_applications(10, seed=int(uuid.uuid4().int % 10_000))[9]
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as intake:
        application_id = (await intake.post("/applications", json=form)).json()["application_id"]
    await reaches(platform, application_id, "needs_information")

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.keys[Role.SOCIAL_WORKER]) == ""
    await desk.open(page, f"/cases/{application_id}/facts")
    assert (await page.text_content("#facts-reference")) == reference(application_id)
    asked = await page.inner_text("fieldset.asked")
    assert "Monthly household income (AZN)" in asked
    assert "asked for" in asked

    await page.fill("#monthly_household_income_azn", "-5")
    await desk.submit(page, "#facts-form button[type=submit]")
    assert any("Some facts were not accepted" in p for p in await desk.problems(page))
    assert await page.get_attribute("#monthly_household_income_azn", "aria-invalid") == "true"

    await page.fill("#monthly_household_income_azn", "320")
    await desk.submit(page, "#facts-form button[type=submit]")
    assert "The facts were added" in await desk.flash(page)

    decided = await reaches(platform, application_id, "eligible", "placed", "waitlisted")
    assert decided["facts_added_by"] == {"role": "social_worker", "name": "e2e-social_worker"}


async def test_a_reviewer_overturns_a_refusal_from_the_queue(
    platform: Platform, desk: Desk
) -> None:
    application_id = await refused_application(platform, 52)
    lodged = await lodge(platform, application_id)
    assert lodged.status_code == 201, lodged.text
    appeal: dict[str, Any] = lodged.json()

    worker = await desk.page(language="en")
    assert await desk.sign_in(worker, platform.keys[Role.SOCIAL_WORKER]) == ""
    await desk.open(worker, f"/appeals/{appeal['id']}")
    assert await worker.query_selector("#verdict") is None, "only reviewers decide appeals"

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.keys[Role.REVIEWER]) == ""
    rows = await desk.rows(page, "table-appeals")
    [row] = [r for r in rows if r[0] == reference(application_id)]
    assert row[2] == "the decision"
    assert int(await page.text_content("#count-appeals") or 0) >= 1
    async with page.expect_navigation():
        await page.click(f"a[href='/appeals/{appeal['id']}']")
    assert "cannot go shopping" in (await page.text_content("#appeal-grounds") or "")
    decisions = await page.inner_text("#main")
    assert "not eligible" in decisions
    assert "Income below the need criterion" in decisions

    await page.check("#verdict-overturned")
    await page.fill("#reasons", "she cannot shop or cook since her operation: help at home")
    await page.select_option("#need_level", "2")
    await desk.submit(page, "#verdict button[type=submit]")
    assert "The decision was overturned" in await desk.flash(page)
    assert "overturned" in (await page.inner_text("h1"))
    assert await page.query_selector("#verdict") is None

    async with platform.client("eligibility", Role.OPERATOR) as eligibility:
        decided = (await eligibility.get(f"/appeals/{appeal['id']}")).json()
    assert decided["status"] == "overturned"
    assert decided["decided_by"] == "reviewer:e2e-reviewer"

    async def eligible() -> bool:
        async with platform.client("eligibility", Role.OPERATOR) as eligibility:
            found = await eligibility.get(f"/applications/{application_id}/decisions")
        return bool(found.json()[-1]["outcome"] == "eligible")

    assert await until(eligible)
