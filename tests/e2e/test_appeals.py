"""Appeals on the whole platform: a refusal appealed by a social worker and overturned by a
reviewer ends in a placement, the history keeping both decisions and the citizen told at each
step; an upheld appeal leaves everything as it was; an appeal after the deadline is refused; only a
reviewer decides an appeal."""

import asyncio
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from socialsvc_common.apikeys import Role
from socialsvc_common.db import libpq_url
from tests.harness import until

from .applicants import mixed_applications
from .conftest import Platform

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(shared_platform: Platform) -> Platform:
    """The module's tests share one platform: each looks only at applications of its own."""
    return shared_platform


PROBLEM = "application/problem+json"
# The Azerbaijani SMS of each step (the applicant's language).
RECEIVED = "müraciətiniz qəbul edildi"
APPEAL_RECEIVED = "şikayətiniz qəbul edildi"
APPEAL_UPHELD = "qərar dəyişdirilmədi"
APPEAL_OVERTURNED = "şikayətiniz təmin edildi"
PLACED = "sizə yer təklif edilir"


def refused_form(seed: int) -> dict[str, Any]:
    """A young adult in Xətai with income above the need criterion asking for home care: refused.
    No e-mail, so every message goes by SMS."""
    body = mixed_applications(1, seed=seed)[0]
    body["service_requested"] = "home_care"
    body["applicant"] |= {
        "district": "Xətai",
        "email": None,
        "language": "az",
        "birth_date": "1990-01-01",
    }
    body["circumstances"] = {
        "monthly_household_income_azn": "3000",
        "activities_needing_help": ["shopping"],
    }
    return body


def reference(application_id: str) -> str:
    head = uuid.UUID(application_id).hex[:8].upper()
    return f"{head[:4]}-{head[4:]}"


def messages_to(platform: Platform, application_id: str) -> list[str]:
    """The SMS texts the citizen of this application received, in order."""
    ref = reference(application_id)
    return [line["text"] for line in platform.sink_lines("sms.jsonl") if ref in line["text"]]


def told(platform: Platform, application_id: str, *phrases: str) -> bool:
    texts = [text.lower() for text in messages_to(platform, application_id)]
    return all(any(phrase in text for text in texts) for phrase in phrases)


async def refused_application(platform: Platform, seed: int) -> str:
    async with platform.client("intake", Role.SOCIAL_WORKER) as intake:
        submitted = await intake.post("/applications", json=refused_form(seed))
    assert submitted.status_code == 202, submitted.text
    application_id: str = submitted.json()["application_id"]
    async with platform.client("eligibility", Role.SOCIAL_WORKER) as eligibility:

        async def decided() -> list[dict[str, Any]]:
            found = await eligibility.get(f"/applications/{application_id}/decisions")
            return list(found.json()) if found.status_code == 200 else []

        [decision] = await until(decided)
    assert (decision["outcome"], decision["current"]) == ("ineligible", True), decision
    assert decision["appeal_by"] is not None
    # The refusal's message follows the one that the application was received.
    assert await until(lambda: asyncio.sleep(0, len(messages_to(platform, application_id)) >= 2))
    return application_id


async def lodge(platform: Platform, application_id: str) -> httpx.Response:
    async with platform.client("eligibility", Role.SOCIAL_WORKER) as eligibility:
        return await eligibility.post(
            f"/applications/{application_id}/appeals",
            json={"grounds": "she cannot go shopping or cook since her operation"},
        )


async def test_a_refusal_overturned_on_appeal_ends_in_a_placement(platform: Platform) -> None:
    application_id = await refused_application(platform, 41)
    lodged = await lodge(platform, application_id)
    assert lodged.status_code == 201, lodged.text
    appeal = lodged.json()
    assert (appeal["status"], appeal["lodged_by"]) == ("lodged", "social_worker:e2e-social_worker")
    assert appeal["overdue"] is False
    assert await until(lambda: asyncio.sleep(0, told(platform, application_id, APPEAL_RECEIVED)))
    again = await lodge(platform, application_id)
    assert (again.status_code, again.headers["content-type"]) == (409, PROBLEM)
    assert again.json()["type"].endswith("/appeal-open")

    verdict = {
        "status": "overturned",
        "reasons": "the operation left her unable to shop or cook: help at home is needed",
        "need_level": 2,
    }
    decision_url = f"/appeals/{appeal['id']}/decision"
    async with platform.client("eligibility", Role.SOCIAL_WORKER) as worker:
        forbidden = await worker.post(decision_url, json=verdict)
    assert (forbidden.status_code, forbidden.headers["content-type"]) == (403, PROBLEM)
    assert "reviewer" in forbidden.json()["detail"]
    async with platform.client("eligibility", Role.REVIEWER) as reviewer:
        overturned = await reviewer.post(decision_url, json=verdict)
        twice = await reviewer.post(decision_url, json=verdict)
    assert overturned.status_code == 200, overturned.text
    assert overturned.json()["status"] == "overturned"
    assert overturned.json()["decided_by"] == "reviewer:e2e-reviewer"
    assert overturned.json()["reasons"] == verdict["reasons"]
    assert (twice.status_code, twice.json()["type"].split("/")[-1]) == (409, "appeal-decided")

    async with platform.client("assignment", Role.OPERATOR) as assignment:

        async def placements() -> list[dict[str, Any]]:
            found = await assignment.get("/placements", params={"application_id": application_id})
            return list(found.json())

        [placement] = await until(placements)
    assert (placement["status"], placement["active"]) == ("offered", True)

    async with platform.client("eligibility", Role.REVIEWER) as reviewer:
        history = (await reviewer.get(f"/applications/{application_id}/decisions")).json()
    first, second = history
    assert (first["outcome"], first["current"], first["appeal_id"]) == ("ineligible", False, None)
    assert (second["outcome"], second["current"]) == ("eligible", True)
    assert second["appeal_id"] == appeal["id"]
    assert (second["need_level"], second["provision_types"]) == (2, ["home_care"])
    assert second["event_id"] == overturned.json()["new_decision_event_id"]
    assert first["rule_set_version"] == second["rule_set_version"]

    assert await until(lambda: asyncio.sleep(0, told(platform, application_id, PLACED)))
    texts = [text.lower() for text in messages_to(platform, application_id)]
    order = [
        next(i for i, text in enumerate(texts) if phrase in text)
        for phrase in (RECEIVED, APPEAL_RECEIVED, APPEAL_OVERTURNED, PLACED)
    ]
    assert order == sorted(order), texts
    assert order[1] >= 2, texts  # the refusal came between
    assert sum(APPEAL_RECEIVED in text for text in texts) == 1
    assert sum(APPEAL_OVERTURNED in text for text in texts) == 1


async def test_an_upheld_appeal_leaves_things_as_they_were(platform: Platform) -> None:
    application_id = await refused_application(platform, 42)
    lodged = await lodge(platform, application_id)
    assert lodged.status_code == 201, lodged.text
    async with platform.client("eligibility", Role.REVIEWER) as reviewer:
        upheld = await reviewer.post(
            f"/appeals/{lodged.json()['id']}/decision",
            json={"status": "upheld", "reasons": "the income is well above the need criterion"},
        )
        listed = (await reviewer.get("/appeals", params={"status": "upheld"})).json()
        history = (await reviewer.get(f"/applications/{application_id}/decisions")).json()
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld"
    assert upheld.json()["new_decision_event_id"] is None
    assert lodged.json()["id"] in {appeal["id"] for appeal in listed}
    assert [(d["outcome"], d["current"]) for d in history] == [("ineligible", True)]
    assert await until(lambda: asyncio.sleep(0, told(platform, application_id, APPEAL_UPHELD)))
    async with platform.client("assignment", Role.OPERATOR) as assignment:
        placed = await assignment.get("/placements", params={"application_id": application_id})
    assert placed.json() == []
    assert not told(platform, application_id, APPEAL_OVERTURNED)


async def test_an_appeal_after_the_deadline_is_refused(platform: Platform) -> None:
    application_id = await refused_application(platform, 43)
    # The decision was made long ago: past the policy's 30 days.
    database = libpq_url(platform.extra["databases"]["eligibility"])
    with psycopg.connect(database) as connection:
        connection.execute(
            "UPDATE decisions SET decision = jsonb_set(decision::jsonb, '{decided_at}', "
            "to_jsonb(CAST(now() - interval '40 days' AS timestamptz)))::json "
            "WHERE application_id = %s",
            (application_id,),
        )
    late = await lodge(platform, application_id)
    assert (late.status_code, late.headers["content-type"]) == (422, PROBLEM)
    assert late.json()["type"].endswith("/appeal-deadline-passed")
    assert "were taken until" in late.json()["detail"]
    async with platform.client("eligibility", Role.OPERATOR) as operator:
        listed = (await operator.get("/appeals")).json()
        overdue = await operator.get("/appeals", params={"overdue": "true"})
    assert application_id not in {appeal["application_id"] for appeal in listed}
    assert overdue.status_code == 200
    assert not told(platform, application_id, APPEAL_RECEIVED)


def home_care_form(seed: int) -> dict[str, Any]:
    """An elderly person living alone in Xətai who needs help: placed with home care there."""
    body = refused_form(seed)
    body["applicant"]["birth_date"] = "1944-04-04"
    body["circumstances"] = {
        "lives_alone": True,
        "activities_needing_help": ["washing", "eating", "moving_about", "toilet", "dressing"],
    }
    return body


async def test_an_ended_service_overturned_on_appeal_is_placed_again(platform: Platform) -> None:
    async with platform.client("intake", Role.SOCIAL_WORKER) as intake:
        submitted = await intake.post("/applications", json=home_care_form(44))
    application_id = submitted.json()["application_id"]
    async with platform.client("assignment", Role.OPERATOR) as assignment:

        async def placements() -> list[dict[str, Any]]:
            found = await assignment.get("/placements", params={"application_id": application_id})
            return list(found.json())

        [first] = await until(placements)
        for step in ("accept", "start"):
            moved = await assignment.post(f"/placements/{first['id']}/{step}")
            assert moved.status_code == 202, moved.text
        ended = await assignment.post(
            f"/placements/{first['id']}/release", json={"reason": "service_ended"}
        )
        assert ended.status_code == 202, ended.text

        async with platform.client("eligibility", Role.SOCIAL_WORKER) as eligibility:

            async def lodged() -> httpx.Response | None:
                # Eligibility learns of the release from assignment's event.
                answer = await eligibility.post(
                    f"/applications/{application_id}/appeals",
                    json={"subject": "placement", "grounds": "she still cannot wash or dress"},
                )
                return answer if answer.status_code != 404 else None

            appeal = await until(lodged)
        assert appeal is not None
        assert appeal.status_code == 201, appeal.text
        assert appeal.json()["subject"] == "placement"
        async with platform.client("eligibility", Role.REVIEWER) as reviewer:
            overturned = await reviewer.post(
                f"/appeals/{appeal.json()['id']}/decision",
                json={"status": "overturned", "reasons": "the need for help has not changed"},
            )
        assert overturned.status_code == 200, overturned.text

        async def placed_again() -> list[dict[str, Any]]:
            found = await placements()
            return found if len(found) == 2 else []

        again = await until(placed_again)
    assert again, await placements()
    by_id = {placement["id"]: placement for placement in again}
    assert by_id.pop(first["id"])["active"] is False
    [second] = by_id.values()
    assert (second["active"], second["status"]) == (True, "offered")
    async with platform.client("eligibility", Role.OPERATOR) as operator:
        history = (await operator.get(f"/applications/{application_id}/decisions")).json()
    assert [(d["outcome"], d["appeal_id"]) for d in history] == [
        ("eligible", None),
        ("eligible", appeal.json()["id"]),
    ]


async def test_the_citizen_appeals_through_the_portal_about_their_own_refusal_only(
    platform: Platform,
) -> None:
    application_id = await refused_application(platform, 46)
    own_fin = refused_form(46)["applicant"]["fin"]
    other_fin = refused_form(47)["applicant"]["fin"]
    assert own_fin != other_fin
    path = f"/portal/applications/{application_id}/appeals"
    grounds = {"grounds": "my income fell when I lost my job"}
    async with platform.client("eligibility", Role.CITIZEN_PORTAL) as portal:
        someone_else = await portal.post(path, json=grounds, headers={"X-Citizen-FIN": other_fin})
        without_fin = await portal.post(path, json=grounds)
        lodged = await portal.post(path, json=grounds, headers={"X-Citizen-FIN": own_fin})
    async with platform.client("eligibility", Role.SOCIAL_WORKER) as worker:
        staff_route = await worker.post(path, json=grounds, headers={"X-Citizen-FIN": own_fin})
    assert someone_else.status_code == 404, someone_else.text
    assert someone_else.headers["content-type"] == PROBLEM
    assert own_fin not in someone_else.text
    assert without_fin.status_code == 422
    assert staff_route.status_code == 403
    assert lodged.status_code == 201, lodged.text
    appeal = lodged.json()
    assert appeal["status"] == "lodged"
    assert appeal["lodged_by"].startswith("citizen_portal:")
    assert await until(lambda: asyncio.sleep(0, told(platform, application_id, APPEAL_RECEIVED)))
