"""A provider with one place and services reviewed a week after they start, in headless Chromium
on the whole platform: the second child is on the provider's waiting list, in first place; the
provider declines the first child's offer, and the place goes to the child who waited. A service
that started is in the social worker's queue of reviews due."""

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from socialsvc_common.apikeys import Role
from tests.harness import TEST_PROVIDER, until

from .conftest import Platform
from .test_workspace_provider import PACKAGED_REGISTRY, child_in_xetai, placement_of
from .workspace_desk import Desk, open_desk, reaches, reference, submitted

pytestmark = pytest.mark.integration
REVIEW_POLICY = PACKAGED_REGISTRY.parents[1] / "policy/reviews.toml"
NGO_REVIEW = 'provision_type = "ngo_project"\nmin_need_level = 0\ndays = 180'
WEEKLY_REVIEW = NGO_REVIEW.replace("180", "7")


def only_the_test_provider(block: str) -> str:
    """A provider's entry: the test provider's with one place, any other without children with
    a disability among its groups."""
    if f'id = "{TEST_PROVIDER}"' in block:
        return re.sub(r"(?m)^capacity = \d+$", "capacity = 1", block)
    return re.sub(
        r"(?m)^target_groups = \[.*child_with_disability.*\]$",
        'target_groups = ["disability"]',
        block,
    )


@pytest.fixture
def platform_settings(tmp_path: Path) -> dict[str, dict[str, str]]:
    """The demo registry with the test provider down to one place and the only one for children
    with a disability (others nearby would take the second child); NGO projects reviewed a week
    after the service starts."""
    blocks = PACKAGED_REGISTRY.read_text(encoding="utf-8").split("\n[[")
    registry = "\n[[".join(only_the_test_provider(block) for block in blocks)
    providers = tmp_path / "providers.toml"
    providers.write_text(registry, encoding="utf-8")
    policy = tmp_path / "reviews.toml"
    policy.write_text(
        REVIEW_POLICY.read_text(encoding="utf-8").replace(NGO_REVIEW, WEEKLY_REVIEW),
        encoding="utf-8",
    )
    assert WEEKLY_REVIEW in policy.read_text(encoding="utf-8")
    return {"assignment": {"providers_file": str(providers), "review_policy_file": str(policy)}}


@pytest.fixture
async def desk(platform: Platform, tmp_path: Path) -> AsyncIterator[Desk]:
    async with open_desk(platform, tmp_path) as opened:
        yield opened


async def test_a_declined_offer_goes_to_the_first_on_the_waiting_list(
    platform: Platform, desk: Desk
) -> None:
    seed = uuid.uuid4().int % 10_000
    first_form, second_form = child_in_xetai(seed), child_in_xetai(seed + 1)
    first = await submitted(platform, first_form)
    await reaches(platform, first, "placed")
    second = await submitted(platform, second_form)
    await reaches(platform, second, "waitlisted")
    assert (await placement_of(platform, first))["provider_id"] == TEST_PROVIDER

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.keys[Role.PROVIDER]) == ""
    assert (await page.text_content("#glance-capacity")) == "1"
    [waiting] = await desk.rows(page, "table-waitlist")
    assert waiting[:2] == ["1", reference(second)]
    assert reference(first) in [row[0] for row in await desk.rows(page, "table-offers")]

    await desk.submit(page, f"#decline-{reference(first)}")
    assert await desk.flash(page) == (
        "The offer was declined; the place goes to the next person waiting."
    )

    async def offered_to_the_second() -> list[list[str]]:
        await page.reload()
        offers = await desk.rows(page, "table-offers")
        return offers if reference(second) in [row[0] for row in offers] else []

    offers = await until(offered_to_the_second)
    assert reference(first) not in [row[0] for row in offers]
    assert "table-waitlist" not in await page.content()
    declined: dict[str, Any] = await placement_of(platform, first)
    assert declined["release_reason"] == "declined"
    assert declined["changed_by"] == "provider:e2e-provider"
    shown = await page.inner_text("body")
    for form in (first_form, second_form):
        assert form["applicant"]["fin"] not in shown
        assert form["applicant"]["last_name"] not in shown


async def test_a_started_service_is_in_the_workers_queue_of_reviews_due(
    platform: Platform, desk: Desk
) -> None:
    application_id = await submitted(platform, child_in_xetai(uuid.uuid4().int % 10_000))
    await reaches(platform, application_id, "placed")
    placement = await placement_of(platform, application_id)
    placement_id = placement.get("placement_id") or placement["id"]
    async with platform.client("assignment", Role.PROVIDER) as provider:
        for step in ("accept", "start"):
            answer = await provider.post(f"/placements/{placement_id}/{step}")
            assert answer.status_code == 202, answer.text

    page = await desk.page(language="en")
    assert await desk.sign_in(page, platform.keys[Role.SOCIAL_WORKER]) == ""

    async def review_listed() -> list[list[str]]:
        await page.reload()
        rows = await desk.rows(page, "table-reviews")
        return [row for row in rows if row[0] == reference(application_id)]

    [review] = await until(review_listed)
    assert review[1] == "Xətai"
    assert int(await page.text_content("#count-reviews") or 0) >= 1
