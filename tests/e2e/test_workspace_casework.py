"""A social worker's day in the workspace, in headless Chromium on the whole platform: the queues
with their counts, a search by FIN, name and reference, a case with its decisions explained and
the messages sent, a confidential note, the case assigned, a home visit planned and its outcome
recorded. Every change reaches intake with the worker as its actor; no FIN or name reaches the
workspace's log.

Needs intake's casework routes and assignment's scoped queues (issue 18, helpers A and B): run
after they are merged."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from socialsvc_common.apikeys import Role
from tests.harness import until

from .applicants import mixed_applications
from .conftest import Platform
from .workspace_desk import Desk, open_desk, reaches, reference, submitted

pytestmark = pytest.mark.integration
BAKU = timezone(timedelta(hours=4))


@pytest.fixture
def platform_keys() -> dict[str, tuple[Role, dict[str, Any]]]:
    return {"leyla": (Role.SOCIAL_WORKER, {"districts": ["Xətai"]})}


@pytest.fixture
def platform_settings() -> dict[str, dict[str, str]]:
    # Offers lapse within a day, so the placement offered here is one "about to lapse".
    return {"assignment": {"offer_days": "1"}}


@pytest.fixture
async def desk(platform: Platform, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(platform, tmp_path) as opened:
        yield opened


def in_xetai(kind: int, seed: int) -> dict[str, Any]:
    form = mixed_applications(10, seed=seed)[kind]
    form["applicant"]["district"] = "Xətai"
    return form


async def test_a_social_workers_day(platform: Platform, desk: Desk) -> None:
    seed = uuid.uuid4().int % 10_000
    # Profile 9: a family that did not state its income; profile 0: an elderly person alone.
    waiting_form, placed_form = in_xetai(9, seed), in_xetai(0, seed + 1)
    waiting = await submitted(platform, waiting_form)
    placed = await submitted(platform, placed_form)
    await reaches(platform, waiting, "needs_information")
    await reaches(platform, placed, "placed")
    fin = waiting_form["applicant"]["fin"]
    last_name = waiting_form["applicant"]["last_name"]

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.extra["keys"]["leyla"]) == ""
    assert await desk.problems(page) == [], "every queue answers"
    assert int(await page.text_content("#count-needs_information") or 0) >= 1
    waiting_rows = await desk.rows(page, "table-needs_information")
    [row] = [r for r in waiting_rows if r[0] == reference(waiting)]
    assert last_name in row[1]
    assert row[2] == "Xətai"
    offers = await desk.rows(page, "table-offers")
    assert reference(placed) in [r[0] for r in offers]

    await desk.open(page, "/search")
    await page.fill("#fin", fin.lower())
    await desk.submit(page, "#search button[type=submit]:not([name])")
    [found] = await desk.rows(page, "results")
    assert found[0] == reference(waiting)
    assert found[3] == "needs information"
    assert "?" not in page.url
    await page.fill("#fin", "")
    await page.fill("#name", last_name[:4].lower())
    await desk.submit(page, "#search button[type=submit]:not([name])")
    assert reference(waiting) in [r[0] for r in await desk.rows(page, "results")]
    await page.fill("#name", "")
    await page.fill("#reference", reference(placed).lower())
    await desk.submit(page, "#search button[type=submit]:not([name])")
    [by_reference] = await desk.rows(page, "results")
    assert by_reference[3] == "placed"

    await desk.open(page, f"/cases/{waiting}")
    assert reference(waiting) in await page.inner_text("h1")
    assert fin in await page.inner_text("#case-facts")
    decisions = await page.inner_text("#main")
    assert "What was asked for:" in decisions
    assert "household's total monthly income" in decisions

    async def messages_shown() -> list[list[str]]:
        await page.reload()
        found = await desk.rows(page, "case-messages")
        # The last column is when a message was delivered ("—" until then).
        return found if any(row[-1] != "—" for row in found) else []

    messages = await until(messages_shown, 60)
    assert any(row[0] == "application received" for row in messages), messages

    await page.fill("#note-text", "Telefonla danışıldı; gəlir sənədi gətirəcək.")
    await page.check("#note-confidential")
    await desk.submit(page, "#note-form button[type=submit]")
    assert await desk.flash(page) == "The note was added."
    notes = await page.inner_text("#note-list")
    assert "gəlir sənədi gətirəcək" in notes
    assert "Confidential" in notes

    await desk.submit(page, "button[name=me]")
    assert await desk.flash(page) == "The case was assigned."
    assert "leyla" in (await page.text_content("#assigned") or "")

    await page.fill("#visit-reason", "income papers to see at home")
    await desk.submit(page, "#plan-visit button[type=submit]")
    assert await desk.flash(page) == "The home visit was planned."
    [visit] = await desk.rows(page, "visits-requested")
    assert "income papers" in visit[1]
    an_hour_ago = (datetime.now(BAKU) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    await page.fill("#visited-at-1", an_hour_ago)
    await page.select_option("#outcome-1", "not_at_home")
    await page.fill("#visit-note-1", "neighbours say she is at her daughter's")
    await desk.submit(page, ".outcome-form button[type=submit]")
    assert await desk.flash(page) == "The visit and its outcome were recorded."
    [done] = await desk.rows(page, "visits-done")
    assert "not at home" in done
    assert "social_worker:leyla" in done
    journey = await desk.rows(page, "case-journey")
    assert journey[0][1] == "application received"

    await desk.open(page, f"/cases/{placed}#placements")
    [placement] = await desk.rows(page, "case-placements")
    assert placement[2].startswith("offered")

    await desk.open(page, "/queues")
    await desk.screenshot(page, "workspace-worker.png")

    async with platform.client("intake", Role.ADMINISTRATOR) as intake:
        [note] = (await intake.get(f"/cases/{waiting}/notes")).json()
        case = (await intake.get(f"/cases/{waiting}")).json()
    assert note["confidential"] is True
    assert note["author"] in ("social_worker:leyla", {"role": "social_worker", "name": "leyla"})
    assert case["assigned_to"] == "leyla"

    logged = desk.logged()
    for personal in (fin, fin.lower(), last_name, waiting_form["applicant"]["first_name"]):
        assert personal not in logged
    assert "gəlir sənədi" not in logged
