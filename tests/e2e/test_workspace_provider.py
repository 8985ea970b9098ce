"""A provider's desk in the workspace, in headless Chromium on the whole platform: capacity and
contract at a glance with a warning before the contract ends, an offer accepted, the service
started, a service delivered recorded and the service ended with a reason. Assignment records
the provider's key as the actor of each step; no name or FIN is on any of its pages.

Needs assignment's provider routes (issue 18, helper B): run after they are merged."""

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assignment.placements import BAKU
from socialsvc_common.apikeys import Role
from tests.harness import TEST_PROVIDER, until

from .applicants import mixed_applications
from .conftest import Platform
from .workspace_desk import Desk, open_desk, reaches, reference, submitted

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PACKAGED_REGISTRY = ROOT / "services/assignment/src/assignment/data/providers.toml"


CONTRACT_DAYS_LEFT = 20


@pytest.fixture
def platform_settings(tmp_path: Path) -> dict[str, dict[str, str]]:
    """The demo registry with the test provider's contract ending in 20 days: within the 30 days
    before its end that assignment warns of."""
    registry = PACKAGED_REGISTRY.read_text(encoding="utf-8")
    start = registry.index(f'id = "{TEST_PROVIDER}"')
    end = registry.index("contract_end = ", start)
    line_end = registry.index("\n", end)
    ends = (date.today() + timedelta(days=CONTRACT_DAYS_LEFT)).isoformat()
    registry = registry[:end] + f"contract_end = {ends}" + registry[line_end:]
    providers = tmp_path / "providers.toml"
    providers.write_text(registry, encoding="utf-8")
    return {"assignment": {"providers_file": str(providers)}}


@pytest.fixture
async def desk(platform: Platform, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(platform, tmp_path) as opened:
        yield opened


def child_in_xetai(seed: int) -> dict[str, Any]:
    """Profile 2 of the applicants: a child with a disability, for an NGO project; in Xətai, the
    test provider's district."""
    form = mixed_applications(10, seed=seed)[2]
    form["applicant"]["district"] = "Xətai"
    return form


async def placement_of(platform: Platform, application_id: str) -> dict[str, Any]:
    async with platform.client("assignment", Role.OPERATOR) as assignment:
        found = await assignment.get("/placements", params={"application_id": application_id})
    [placement] = found.json()
    return dict(placement)


async def test_a_provider_accepts_starts_records_and_ends(platform: Platform, desk: Desk) -> None:
    form = child_in_xetai(uuid.uuid4().int % 10_000)
    application_id = await submitted(platform, form)
    await reaches(platform, application_id, "placed")
    ref = reference(application_id)
    placement = await placement_of(platform, application_id)
    assert placement["provider_id"] == TEST_PROVIDER
    placement_id = placement.get("placement_id") or placement["id"]

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.keys[Role.PROVIDER]) == ""
    assert page.url == desk.url + "/provider"
    warning = await page.text_content("#contract-warning") or ""
    assert "The contract ends in" in warning
    # Assignment counts the days in UTC, this test in local time: a day either way near midnight.
    days = range(CONTRACT_DAYS_LEFT - 1, CONTRACT_DAYS_LEFT + 2)
    assert any(f"The contract ends in {n} days" in warning for n in days), warning
    assert (await page.text_content("#glance-capacity")) == "60"
    offers = await desk.rows(page, "table-offers")
    assert ref in [row[0] for row in offers]
    await desk.screenshot(page, "workspace-provider.png")

    await desk.submit(page, f"#accept-{ref}")
    assert await desk.flash(page) == "The offer was accepted."
    assert ref in [row[0] for row in await desk.rows(page, "table-accepted")]
    await desk.submit(page, f"#start-{ref}")
    assert await desk.flash(page) == "The service start was recorded."
    assert ref in [row[0] for row in await desk.rows(page, "table-started")]

    await desk.open(page, f"/provider/placements/{placement_id}")
    # Today in Baku, as assignment dates the start: after 20:00 UTC it is already tomorrow there.
    await page.fill("#delivered_on", datetime.now(BAKU).date().isoformat())
    await page.select_option("#kind", "session")
    await page.fill("#minutes", "45")
    await page.fill("#service-note", "speech therapy, first session")
    await desk.submit(page, "#service-form button[type=submit]")
    assert await desk.flash(page) == "The service delivered was recorded."
    [service] = await desk.rows(page, "services")
    assert service[1:3] == ["session", "45"]
    assert "provider:e2e-provider" in service[4]

    await page.select_option("#reason", "service_ended")
    await desk.submit(page, "#end-form button[type=submit]")
    assert await desk.flash(page) == "The service was ended."

    async def released() -> dict[str, Any] | None:
        found = await placement_of(platform, application_id)
        return found if found["status"] == "released" or found.get("active") is False else None

    ended = await until(released)
    assert ended, "the placement was released"
    assert ended["release_reason"] == "service_ended"
    assert ended["changed_by"] == "provider:e2e-provider"

    shown = await page.inner_text("body")
    for personal in (form["applicant"]["fin"], form["applicant"]["last_name"]):
        assert personal not in shown
        assert personal not in desk.logged()
