"""The ministry's funnel of proactive services on the whole platform (issue 21): three life events
from the state registries go through eligibility's pre-screen, intake's offers, the portal and
assignment, and the statistics service (with k=1, so every count shows) counts them by kind and
by district: one unlikely, one offer declined, one accepted and placed.

Another platform on the same broker reads these registry events too, and this one its; before
each look the test removes from the read model the life events that are not its own, so the
figures compared are this platform's."""

import uuid
from typing import Any
from uuid import UUID

import psycopg
import pytest

from socialsvc_common.contract import topics
from socialsvc_common.contract.payloads import LifeEventKind, Registry
from socialsvc_common.db import libpq_url
from socialsvc_common.pseudonym import public_application_id
from tests.harness import READ_MODELS, until
from tests.integration.statistics_rig import policy_file

from .conftest import Platform
from .test_consent import publish
from .test_life_events import as_registry, life_event, offers_of
from .test_portal import DISTRICT, Citizen, new_fin, offered

pytestmark = pytest.mark.integration
STEPS = ["life_events", "likely", "offered", "accepted", "declined", "lapsed", "placed"]
ACCEPTANCE = {
    "consent_to_processing": True,
    "activities_needing_help": ["washing", "shopping", "housework", "medication"],
    "monthly_household_income_azn": "280",
}


@pytest.fixture
def platform_read_models() -> tuple[str, ...]:
    return READ_MODELS


@pytest.fixture
def platform_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The statistics service with k=1: every count shows."""
    policy = policy_file(tmp_path_factory.mktemp("policy"), 1)
    return {"statistics": {"disclosure_policy_file": str(policy)}}


def funnel(*counts: int) -> dict[str, int]:
    return dict(zip(STEPS, counts, strict=True))


def keep_own_life_events(platform: Platform, ids: list[UUID]) -> None:
    """Deletes from the read model the life events (and their groups and directions) of other
    platforms on the broker; their offers then join none of these."""
    key = platform.extra["pseudonym_key"].encode()
    refs = [public_application_id(i, key) for i in ids]
    tables = ("stats_life_events", "stats_life_event_groups", "stats_life_event_directions")
    with psycopg.connect(libpq_url(platform.extra["databases"]["statistics"])) as connection:
        for table in tables:
            connection.execute(f"DELETE FROM {table} WHERE NOT (ref = ANY(%s))", (refs,))  # noqa: S608


def by_key(answer: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    found = next(s for s in answer["sections"] if s["id"] == section)
    return {next(iter(row["keys"].values())): row["values"] for row in found["rows"]}


async def test_the_funnel_counts_life_events_offers_answers_and_places(
    platform: Platform, bootstrap: str
) -> None:
    fin, run = new_fin(), uuid.uuid4().hex[:8]
    citizen = Citizen(platform, fin)
    alone = life_event(
        Registry.POPULATION,
        LifeEventKind.TURNED_65_LIVING_ALONE,
        "1944-04-12",
        f"funnel-alone-{run}",
        fin=fin,
        district=DISTRICT,
        lives_alone=True,
    )
    # "Turned 65" for someone the record says is 36: unlikely, offered nothing.
    young = life_event(
        Registry.POPULATION,
        LifeEventKind.TURNED_65_LIVING_ALONE,
        "1990-01-01",
        f"funnel-young-{run}",
        fin=new_fin(),
        district=DISTRICT,
        lives_alone=True,
    )
    released = life_event(
        Registry.JUSTICE,
        LifeEventKind.RELEASED_FROM_PENITENTIARY,
        "1985-02-02",
        f"funnel-out-{run}",
        fin=fin,
        district=DISTRICT,
    )
    sent = [
        as_registry(alone, topics.LIFE_EVENTS[Registry.POPULATION]),
        as_registry(young, topics.LIFE_EVENTS[Registry.POPULATION]),
        as_registry(released, topics.LIFE_EVENTS[Registry.JUSTICE]),
    ]
    await publish(bootstrap, [record for _, record in sent])
    ids = [life_event_id for life_event_id, _ in sent]

    await offers_of(citizen, 2)
    declined = await citizen.call(
        "POST", f"{citizen.intake}/portal/offers/{released.life_event_id}/decline"
    )
    assert declined.status_code == 200, declined.text
    url = f"{citizen.intake}/portal/offers/{alone.life_event_id}/acceptance"
    accepted = await citizen.call("POST", url, json=ACCEPTANCE)
    assert accepted.status_code == 202, accepted.text
    view = await citizen.seen(accepted.json()["application_id"], offered)
    assert (await citizen.answer(view["offer"]["placement_id"], "accept")).status_code == 202

    expected_kinds = {
        "turned_65_living_alone": funnel(2, 1, 1, 1, 0, 0, 1),
        "left_children_institution": funnel(0, 0, 0, 0, 0, 0, 0),
        "released_from_penitentiary": funnel(1, 1, 1, 0, 1, 0, 0),
        "disability_determined": funnel(0, 0, 0, 0, 0, 0, 0),
    }
    expected_districts = {DISTRICT: funnel(3, 2, 2, 1, 1, 0, 1)}
    answer: dict[str, Any] = {}
    async with platform.client("statistics", timeout=30) as statistics:

        async def counted() -> bool:
            nonlocal answer
            keep_own_life_events(platform, ids)
            response = await statistics.get("/statistics", params={"district": DISTRICT})
            assert response.status_code == 200, response.text
            answer = response.json()
            return (
                by_key(answer, "proactive_by_kind") == expected_kinds
                and by_key(answer, "proactive_by_district") == expected_districts
            )

        await until(counted, 60)

    assert by_key(answer, "proactive_by_kind") == expected_kinds
    assert by_key(answer, "proactive_by_district") == expected_districts
    funnel_total = next(s for s in answer["sections"] if s["id"] == "proactive_by_kind")["total"]
    assert funnel_total == {"values": funnel(3, 2, 2, 1, 1, 0, 1), "suppressed": []}
