"""The statistics service on the whole platform: applications of every kind go through intake,
eligibility, assignment and notifications; offers are accepted and started (the steps a provider
takes) and one is declined; then the figures the statistics API gives (with k=1, so every count
shows) equal the counts worked out independently by SQL on each service's own database.

The applicants live in an economic region no other end-to-end test uses (Nakhchivan), and the
figures are asked for that region. Another platform running on the broker at the same time reads
these events too, and this one its: the statistics service then also holds rows of other
platforms' applications and of their placements and messages for these. Before each comparison
the test removes from the read model what this platform's own databases do not know (nothing, on
a broker of its own), so the figures compared are this platform's."""

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest

from socialsvc_common.apikeys import Role
from socialsvc_common.contract.payloads import DecisionMade
from socialsvc_common.db import libpq_url
from socialsvc_common.geography import load_geography
from socialsvc_common.pseudonym import public_application_id
from tests.harness import READ_MODELS

from .applicants import mixed_applications
from .conftest import Platform
from .test_journey import journeys_when_complete, submit_all

pytestmark = pytest.mark.integration


@pytest.fixture
def platform_read_models() -> tuple[str, ...]:
    return READ_MODELS


REGION = "Naxçıvan"
DISTRICTS = [u for u in load_geography().units() if load_geography().region_of(u) == REGION]
APPLICATIONS = 30
OWN_PLACEMENTS = "SELECT id FROM placements WHERE application_id = ANY(%s)"
OWN_WAITING = "SELECT application_id FROM waitlist WHERE application_id = ANY(%s)"
OWN_MESSAGES = "SELECT id FROM notifications WHERE application_id = ANY(%s)"
BAKU = ZoneInfo("Asia/Baku")


@pytest.fixture
def platform_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The statistics service with k=1: every count shows, so each can be compared."""
    policy = tmp_path_factory.mktemp("policy") / "disclosure.toml"
    policy.write_text(
        'version = "e2e-k1"\nmin_cell = 1\n'
        'sensitive_groups = ["trafficking_victim", "domestic_violence_victim"]\n'
        "public_time_minutes = 60\n",
        encoding="utf-8",
    )
    return {"statistics": {"disclosure_policy_file": str(policy)}}


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(url)) as connection:
        return list(connection.execute(sql, params).fetchall())


def independent(databases: dict[str, str], ids: list[UUID]) -> dict[str, dict[Any, int]]:
    """The figures worked out from the services' own tables, for these applications."""
    intake, eligibility = databases["intake"], databases["eligibility"]
    assignment, notifications = databases["assignment"], databases["notifications"]
    latest = """
        SELECT d.application_id, d.outcome, d.decision FROM decisions d
        WHERE d.application_id = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM decisions later
                          WHERE later.application_id = d.application_id AND later.id > d.id)"""
    decided = {row[0]: row for row in query(eligibility, latest, ids)}
    applications = "SELECT id, district, submitted_at FROM applications WHERE id = ANY(%s)"
    found = query(intake, applications, ids)
    received = {app: district for app, district, _ in found}
    in_service = """
        SELECT application_id, provision_type, provider_id FROM placements
        WHERE application_id = ANY(%s) AND started_at IS NOT NULL AND released_at IS NULL"""
    served = query(assignment, in_service, ids)
    offers = """
        SELECT CASE WHEN status IN ('accepted', 'started') OR started_at IS NOT NULL
                    THEN 'accepted'
                    WHEN release_reason = 'declined' THEN 'declined'
                    WHEN release_reason = 'offer_lapsed' THEN 'lapsed'
                    WHEN released_at IS NULL THEN 'open' END AS result, count(*)
        FROM placements WHERE application_id = ANY(%s) GROUP BY result"""
    waiting = """
        SELECT provision_type, count(*) FROM waitlist
        WHERE application_id = ANY(%s) AND waiting GROUP BY provision_type"""
    messages = """
        SELECT channel, count(*) FILTER (WHERE delivered_at IS NOT NULL),
               count(*) FILTER (WHERE status = 'failed')
        FROM notifications WHERE application_id = ANY(%s) AND channel IS NOT NULL
        GROUP BY channel"""
    groups = Counter(
        group
        for app, _, _ in {(a, t, p) for a, t, p in served}
        for group in set(decided[app][2].get("groups", []))
    )
    by_message = query(notifications, messages, ids)
    people = {a for a, _, _ in served}
    refusals = Counter(
        reason
        for app in received
        if app in decided and decided[app][1] == "ineligible"
        for reason in DecisionMade.model_validate(decided[app][2]).refusal_reasons()
    )
    return {
        "applications_by_outcome": Counter(
            decided[app][1] if app in decided else "undecided" for app in received
        ),
        "applications_by_month": Counter(at.astimezone(BAKU).strftime("%Y-%m") for *_, at in found),
        "served_by_direction": Counter(t for _, t in {(a, t) for a, t, _ in served}),
        "served_by_district": Counter(received[a] for a in {a for a, _, _ in served}),
        "time_to_service": Counter(t for _, t in {(a, t) for a, t, _ in served}),
        "served_by_provider": Counter(p for _, p in {(a, p) for a, _, p in served}),
        "served_by_group": groups,
        "served_by_age_band": Counter(decided[a][2]["age_band"] for a in people),
        "refusals_by_reason": refusals,
        "offers": Counter(dict(query(assignment, offers, ids))),
        "waiting": Counter(dict(query(assignment, waiting, ids))),
        "delivered": Counter({channel: d for channel, d, _ in by_message if d}),
        "failed": Counter({channel: f for channel, _, f in by_message if f}),
    }


def figures_of(answer: dict[str, Any]) -> dict[str, dict[Any, int]]:
    """The same figures from the statistics API's answer (zero cells left out)."""
    sections = {s["id"]: s for s in answer["sections"]}

    def counted(name: str, measure: str) -> Counter[Any]:
        found: Counter[Any] = Counter()
        for row in sections[name]["rows"]:
            key = next(iter(row["keys"].values()))
            found[key] += row["values"][measure]
        return +found

    return {
        "applications_by_outcome": counted("applications_by_outcome", "applications"),
        "applications_by_month": counted("applications_by_month", "applications"),
        "served_by_direction": counted("served_by_direction", "people"),
        "served_by_district": counted("served_by_district", "people"),
        "time_to_service": counted("time_to_service", "people"),
        "served_by_provider": counted("served_by_provider", "people"),
        "served_by_group": counted("served_by_group", "people"),
        "served_by_age_band": counted("served_by_age_band", "people"),
        "refusals_by_reason": counted("refusals_by_reason", "applications"),
        "offers": counted("offers", "offers"),
        "waiting": counted("waiting", "waiting_now"),
        "delivered": counted("messages", "delivered"),
        "failed": counted("messages", "failed"),
    }


async def offered(platform: Platform, ids: list[UUID]) -> list[tuple[UUID, str]]:
    sql = """SELECT id, provision_type FROM placements
             WHERE application_id = ANY(%s) AND status = 'offered' ORDER BY id"""
    return [(row[0], row[1]) for row in query(platform.extra["databases"]["assignment"], sql, ids)]


def keep_this_platform(platform: Platform, ids: list[UUID]) -> int:
    """Deletes from the statistics read model the rows this platform did not cause: other
    applications, and placements, waitlistings and messages its services did not make. Returns
    how many rows went."""
    key = platform.extra["pseudonym_key"].encode()
    databases = platform.extra["databases"]
    refs = [public_application_id(i, key) for i in ids]
    placements = [row[0] for row in query(databases["assignment"], OWN_PLACEMENTS, ids)]
    waiting = [
        public_application_id(row[0], key)
        for row in query(databases["assignment"], OWN_WAITING, ids)
    ]
    messages = [row[0] for row in query(databases["notifications"], OWN_MESSAGES, ids)]
    deletions = [
        ("DELETE FROM stats_applications WHERE NOT (ref = ANY(%s))", refs),
        ("DELETE FROM stats_decisions WHERE NOT (ref = ANY(%s))", refs),
        ("DELETE FROM stats_decision_groups WHERE NOT (ref = ANY(%s))", refs),
        ("DELETE FROM stats_refusal_reasons WHERE NOT (ref = ANY(%s))", refs),
        ("DELETE FROM stats_waitlist WHERE NOT (ref = ANY(%s))", waiting),
        ("DELETE FROM stats_placements WHERE NOT (placement_id = ANY(%s))", placements),
        ("DELETE FROM stats_messages WHERE NOT (notification_id = ANY(%s))", messages),
    ]
    gone = 0
    with psycopg.connect(libpq_url(databases["statistics"])) as connection:
        for sql, keep in deletions:
            gone += connection.execute(sql, (keep,)).rowcount
    return gone


async def test_the_figures_equal_the_services_own_counts(platform: Platform) -> None:
    forms = mixed_applications(APPLICATIONS, seed=19)
    for index, form in enumerate(forms):
        form["applicant"]["district"] = DISTRICTS[index % len(DISTRICTS)]
    async with platform.client("intake", timeout=30) as intake:
        ids = [UUID(i) for i in await submit_all(intake, forms)]
        journeys = await journeys_when_complete(intake, [str(i) for i in ids])
    assert len(journeys) == APPLICATIONS

    offers = await offered(platform, ids)
    assert len(offers) >= 4, f"too few offers to act on: {offers}"
    # An operator moves them along, as the provider routes do (a provider key is one provider's).
    async with platform.client("assignment", Role.OPERATOR, timeout=30) as assignment:
        for placement, _ in offers[:-1]:
            assert (await assignment.post(f"/placements/{placement}/accept")).status_code == 202
        for placement, _ in offers[:-2]:
            assert (await assignment.post(f"/placements/{placement}/start")).status_code == 202
        declined = await assignment.post(f"/placements/{offers[-1][0]}/decline")
        assert declined.status_code == 202

    databases = platform.extra["databases"]
    month = datetime.now(UTC).astimezone(BAKU).strftime("%Y-%m")
    params = {"from": month, "to": month, "region": REGION}
    expected: dict[str, dict[Any, int]] = {}
    shown: dict[str, dict[Any, int]] = {}
    async with platform.client("statistics", timeout=30) as statistics:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            removed = keep_this_platform(platform, ids)
            expected = independent(databases, ids)
            response = await statistics.get("/statistics", params=params)
            assert response.status_code == 200, response.text
            shown = figures_of(response.json())
            if shown == expected:
                break
            await asyncio.sleep(1)
        dimensions = (await statistics.get("/statistics/dimensions")).json()

    assert shown == expected, f"{removed} rows of other platforms removed before comparing"
    # The comparison is not empty: the mix reached every step the figures count.
    assert sum(expected["served_by_direction"].values()) == len(offers) - 2
    assert expected["offers"]["declined"] == 1
    assert set(expected["applications_by_outcome"]) >= {"eligible", "ineligible"}
    assert expected["refusals_by_reason"], "the ineligible decisions gave no reason"
    assert None not in expected["served_by_age_band"], "a decision without its age band"
    assert sum(expected["delivered"].values()) >= APPLICATIONS * 2
    assert month in dimensions["months"]
