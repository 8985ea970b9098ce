"""A withdrawal in assignment and notifications on real PostgreSQL, in whichever order it meets the
application's other events: off the waitlist, the place released to the next person who fits,
never placed afterwards; unsent messages cancelled, one confirmation, nothing after."""

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from assignment.placements import Registry
from assignment.placing import place_all
from assignment.providers import ProviderCache, ProviderRow, seed
from assignment.registry import load_providers
from assignment.store import TABLES as ASSIGNMENT_TABLES
from assignment.store import PlacementRow, WaitlistRow
from assignment.withdrawing import withdraw_all
from notifications.messages import on_events, on_withdrawals
from notifications.store import TABLES as NOTIFICATION_TABLES
from notifications.store import NotificationRow
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.topics import Topic
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.geography import load_geography
from socialsvc_common.outbox import OutboxRow
from socialsvc_common.public_stream import PublicStream
from tests.e2e.applicants import application
from tests.harness import create_tables
from tests.unit.test_assignment_matching import decision

pytestmark = pytest.mark.integration
KEY = b"k" * 32


def received(topic: Topic, payload: BaseModel, application_id: uuid.UUID) -> Received[Any]:
    event = new_event(topic, payload, producer="test", application_id=application_id)
    return Received(event.envelope, payload)


def withdrawn(application_id: uuid.UUID) -> Received[p.ConsentWithdrawn]:
    payload = p.ConsentWithdrawn(
        application_id=application_id,
        withdrawn_at=datetime.now(UTC),
        reason=p.WithdrawalReason.CITIZEN_REQUEST,
        text_version="2026.1",
        purposes=[p.ConsentPurpose.CONTACT],
        withdrawn_by="social_worker:test",
    )
    return received(topics.CONSENT_WITHDRAWN, payload, application_id)


@pytest.fixture
async def engine(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    registry = tmp_path / "providers.toml"
    registry.write_text(
        '[[home_care]]\nid = "hc-one"\nname = "One place"\ndistrict = "Xətai"\n'
        "caseload_limit = 1\n",
        encoding="utf-8",
    )
    made = make_engine(fresh_postgres)
    # Both services keep a withdrawals table of the same shape: it is made once here.
    notifications = [table for table in NOTIFICATION_TABLES if table not in ASSIGNMENT_TABLES]
    # Seeding writes each provider's public.provider.changed to the outbox.
    await create_tables(made, *ASSIGNMENT_TABLES, ProviderRow, *notifications, OutboxRow)
    async with transaction(session_factory(made)) as session:
        await seed(session, load_providers(registry))
    yield made
    await made.dispose()


async def test_assignment_releases_the_place_to_the_next_who_did_not_withdraw(
    engine: AsyncEngine,
) -> None:
    registry = Registry(ProviderCache(load_geography()), PublicStream("assignment", KEY))
    start = datetime.now(UTC)
    placed, waiting, next_one, later = (
        decision(decided_at=start + timedelta(seconds=n)) for n in range(4)
    )
    sessions = session_factory(engine)

    async def place(*decisions: p.DecisionMade) -> list[str]:
        batch = [received(topics.DECISION_MADE, d, d.application_id) for d in decisions]
        async with transaction(sessions) as session:
            events = await place_all(session, registry, batch)
        return [e.envelope.type for e in events if e.topic.owner == "assignment"]

    assert await place(placed, waiting, next_one) == [
        "assignment.placement.made",
        "assignment.placement.waitlisted",
        "assignment.placement.waitlisted",
    ]
    batch = [withdrawn(d.application_id) for d in (placed, waiting, later, placed)]
    async with transaction(sessions) as session:
        events = await withdraw_all(session, registry, batch)
    own = [e for e in events if e.topic.owner == "assignment"]
    assert [e.envelope.type for e in own] == [
        "assignment.placement.released",
        "assignment.placement.made",
    ]
    assert own[0].payload.model_dump()["reason"] == "consent_withdrawn"
    # The place went past the withdrawn person waiting, to the next one.
    assert own[1].envelope.application_id == next_one.application_id
    # Withdrawn before its decision came: never placed nor waitlisted.
    assert await place(later) == []
    async with sessions() as session:
        rows = {r.application_id: r for r in (await session.exec(select(PlacementRow))).all()}
        queue = {r.application_id: r for r in (await session.exec(select(WaitlistRow))).all()}
    assert (rows[placed.application_id].active, rows[placed.application_id].status) == (
        False,
        "withdrawn",
    )
    assert not queue[waiting.application_id].waiting
    assert later.application_id not in rows | queue


async def test_notifications_cancel_what_is_unsent_confirm_once_and_send_nothing_after(
    engine: AsyncEngine,
) -> None:
    form = p.ApplicationForm.model_validate(application(0, random.Random(5)))
    application_id = uuid.uuid4()
    taken_in = p.ApplicationReceived(
        application_id=application_id,
        submitted_at=datetime.now(UTC),
        channel="web",
        service_requested=form.service_requested,
        applicant=form.applicant,
        circumstances=form.circumstances,
    )
    decided = decision().model_copy(update={"application_id": application_id})
    sessions = session_factory(engine)
    first = [
        received(topics.APPLICATION_RECEIVED, taken_in, application_id),
        received(topics.DECISION_MADE, decided, application_id),
    ]
    async with transaction(sessions) as session:
        await on_events(session, first)
    async with transaction(sessions) as session:
        await on_withdrawals(session, [withdrawn(application_id), withdrawn(application_id)])
    placed = p.PlacementWaitlisted(
        application_id=application_id,
        provision_type=p.ProvisionType.HOME_CARE,
        district="Xətai",
        priority_score=1.0,
        waitlisted_at=datetime.now(UTC),
    )
    async with transaction(sessions) as session:
        await on_events(session, [received(topics.PLACEMENT_WAITLISTED, placed, application_id)])
    async with sessions() as session:
        rows = (await session.exec(select(NotificationRow))).all()
    kinds = sorted((row.kind, row.status) for row in rows)
    assert kinds == [
        ("consent_withdrawn", "pending"),
        ("decision_eligible", "cancelled"),
        ("received", "cancelled"),
    ]
