"""The needs-information loop on real Kafka: a decision asks for a fact, the citizen adds it, the
application is decided again and the new decision supersedes the old one."""

import asyncio
import time
from typing import Any

import httpx
import pytest

from .applicants import mixed_applications
from .conftest import Platform

pytestmark = pytest.mark.integration
DECIDED = "eligibility.decision.made"
DELIVERED = "notifications.message.delivered"


async def journey_until(
    client: httpx.AsyncClient, application_id: str, done: Any, seconds: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        journey: dict[str, Any] = (await client.get(f"/applications/{application_id}")).json()
        if done(journey) or time.monotonic() > deadline:
            return journey
        await asyncio.sleep(0.5)


def of_type(journey: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [step for step in journey["journey"] if step["type"] == kind]


async def test_added_facts_are_decided_again_and_supersede(platform: Platform) -> None:
    # Profile 9 of the applicants: a family of four that did not state its income.
    form = mixed_applications(10, seed=11)[9]
    assert "monthly_household_income_azn" not in form["circumstances"]
    async with platform.client("intake", timeout=30) as client:
        created = (await client.post("/applications", json=form)).json()
        application_id = created["application_id"]
        first = await journey_until(
            client, application_id, lambda j: len(of_type(j, DELIVERED)) >= 2
        )
        assert first["status"] == "needs_information", first
        assert of_type(first, DECIDED)[0]["summary"]["missing"] == ["monthly_household_income_azn"]

        bad = await client.patch(
            f"/applications/{application_id}", json={"monthly_household_income_azn": -5}
        )
        added = await client.patch(
            f"/applications/{application_id}", json={"monthly_household_income_azn": "320"}
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "monthly_household_income_azn"
        assert added.status_code == 202

        final = await journey_until(
            client,
            application_id,
            lambda j: j["status"] in {"placed", "waitlisted"} and len(of_type(j, DELIVERED)) >= 4,
        )
        late = await client.patch(
            f"/applications/{application_id}", json={"monthly_household_income_azn": "100"}
        )

    decisions = [step["summary"] for step in of_type(final, DECIDED)]
    assert [d["outcome"] for d in decisions] == ["needs_information", "eligible"], final
    received = of_type(final, "intake.application.received")
    assert [r["summary"]["revision"] for r in received] == [1, 2]
    # received, needs information, eligible, placed or waitlisted: no second "received" message
    assert len(of_type(final, DELIVERED)) == 4
    assert late.status_code == 409
