"""The figures at the articles' scale: 20,000 people in service across every district, with their
decisions, messages, a waiting list and the life events whose offers reached them, answered in
under a second on PostgreSQL (the best of three, so that a moment's load on a shared machine does
not decide)."""

import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import insert, text

from ministry_statistics.facts import month_of
from ministry_statistics.figures import answer, count_sections
from ministry_statistics.filters import parse_filters
from ministry_statistics.tables import (
    APPLICATIONS,
    DECISIONS,
    GROUPS,
    LIFE_EVENT_DIRECTIONS,
    LIFE_EVENT_GROUPS,
    LIFE_EVENTS,
    MESSAGES,
    PLACEMENTS,
    PROACTIVE_OFFERS,
    PROVIDERS,
    WAITLIST,
)
from socialsvc_common.contract.payloads import LifeEventKind
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.disclosure import default_disclosure_policy
from socialsvc_common.geography import load_geography
from tests.harness import migrate

pytestmark = pytest.mark.integration
PEOPLE = 20_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 6, tzinfo=UTC)


def made_up(rng: random.Random) -> dict[Any, list[dict[str, Any]]]:
    geography = load_geography()
    units = geography.units()
    kinds = ["home_care", "residential", "ngo_project"]
    providers = [
        {
            "provider_id": f"p{n}",
            "provision_type": kinds[n % 3],
            "name": f"Provider {n}",
            "organisation": f"NGO {n % 66}" if n % 3 == 2 else None,
            "capacity": 100,
            "contract_start": date(2026, 1, 1),
            "contract_end": date(2027, 12, 31),
            "changed_at": T0,
        }
        for n in range(600)
    ]
    rows: dict[Any, list[dict[str, Any]]] = {table: [] for table in TABLES}
    rows[PROVIDERS] = providers
    for n in range(PEOPLE):
        ref, unit, provider = uuid4(), rng.choice(units), rng.choice(providers)
        at = T0 + timedelta(minutes=rng.randint(0, 450_000))
        started = at + timedelta(days=rng.randint(1, 40))
        rows[APPLICATIONS].append(
            {
                "ref": ref,
                "received_at": at,
                "received_month": month_of(at),
                "district": unit,
                "region": geography.region_of(unit),
                "channel": "web",
                "service_requested": "any",
                "revision": 1,
            }
        )
        rows[DECISIONS].append(
            {
                "ref": ref,
                "decided_at": at,
                "outcome": "eligible",
                "age_band": rng.choice(["0-17", "18-34", "35-64", "65-79", "80+"]),
                "need_level": 2,
                "rule_set_version": "2026-1",
            }
        )
        rows[GROUPS].append({"ref": ref, "target_group": rng.choice(["elderly", "disability"])})
        rows[PLACEMENTS].append(
            {
                "placement_id": uuid4(),
                "ref": ref,
                "provider_id": provider["provider_id"],
                "provision_type": provider["provision_type"],
                "offered_at": at + timedelta(hours=4),
                "accepted_at": at + timedelta(hours=5),
                "started_at": started,
                "started_month": month_of(started),
                "released_at": None,
                "release_reason": None,
            }
        )
        rows[MESSAGES].append(
            {
                "notification_id": uuid4(),
                "ref": ref,
                "channel": rng.choice(["sms", "email", "egov_inbox"]),
                "language": rng.choice(["az", "ru", "en"]),
                "message_kind": "decided",
                "delivered_at": at,
                "failed_at": None,
            }
        )
        if n % 20 == 0:
            rows[WAITLIST].append(
                {"ref": ref, "provision_type": "residential", "waitlisted_at": at}
            )
        life_event(rows, rng, unit, at - timedelta(hours=1), ref)
    return rows


def life_event(
    rows: dict[Any, list[dict[str, Any]]], rng: random.Random, unit: str, at: datetime, ref: Any
) -> None:
    """A life event pre-screened likely in `unit`, whose offer one in two accepted (making the
    application `ref`, which is in service), the others declined, let lapse or left open."""
    event = uuid4()
    rows[LIFE_EVENTS].append(
        {
            "ref": event,
            "kind": rng.choice(KINDS),
            "district": unit,
            "region": load_geography().region_of(unit),
            "screened_at": at,
            "screened_month": month_of(at),
            "outcome": "likely",
        }
    )
    rows[LIFE_EVENT_GROUPS].append({"ref": event, "target_group": "elderly_alone"})
    rows[LIFE_EVENT_DIRECTIONS].append({"ref": event, "provision_type": "home_care"})
    status = rng.choice(["accepted", "accepted", "declined", "lapsed", "offered"])
    rows[PROACTIVE_OFFERS].append(
        {
            "ref": event,
            "status": status,
            "offered_at": at,
            "updated_at": at + timedelta(days=1),
            "application_ref": ref if status == "accepted" else None,
        }
    )


TABLES = (
    APPLICATIONS,
    DECISIONS,
    GROUPS,
    PLACEMENTS,
    MESSAGES,
    WAITLIST,
    PROVIDERS,
    LIFE_EVENTS,
    LIFE_EVENT_GROUPS,
    LIFE_EVENT_DIRECTIONS,
    PROACTIVE_OFFERS,
)
KINDS = [kind.value for kind in LifeEventKind]


async def test_the_figures_of_20000_people_take_under_a_second(fresh_postgres: str) -> None:
    engine = make_engine(await migrate("statistics", fresh_postgres))
    sessions = session_factory(engine)
    try:
        async with transaction(sessions) as session:
            connection = await session.connection()
            for table, rows in made_up(random.Random(19)).items():
                await connection.execute(insert(table), rows)
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        policy = default_disclosure_policy()
        filters = parse_filters(load_geography(), NOW, first="2026-01", last="2026-12")
        times = []
        for _ in range(3):
            started = time.perf_counter()
            async with sessions() as session:
                figures = answer(
                    await count_sections(session, filters, policy, NOW), filters, policy, NOW
                )
            times.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    served = next(s for s in figures["sections"] if s["id"] == "served_by_direction")
    assert served["total"]["values"] == {"people": PEOPLE}
    funnel = next(s for s in figures["sections"] if s["id"] == "proactive_by_district")
    totals = funnel["total"]["values"]
    assert (totals["life_events"], totals["offered"]) == (PEOPLE, PEOPLE)
    assert totals["accepted"] == totals["placed"] > PEOPLE // 3
    assert min(times) < 1.0, f"answers took {times}"
