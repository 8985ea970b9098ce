"""The turns of a case on real PostgreSQL: an offer's reminder held, cancelled by the answer in
whichever order the topics are read; and intake's sweeper reminding once, then expiring an
application whose facts never came."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from intake.information_policy import InformationPolicy
from intake.information_sweeper import take_steps
from intake.store import ApplicationRow, JourneyEntry
from notifications.messages import on_events
from notifications.store import TABLES as NOTIFICATION_TABLES
from notifications.store import NotificationRow, due
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.db import make_engine, session_factory, transaction
from tests.harness import create_tables

pytestmark = pytest.mark.integration
LEAD = timedelta(days=2)


@pytest.fixture
async def engine(fresh_postgres: str) -> AsyncIterator[AsyncEngine]:
    made = make_engine(fresh_postgres)
    await create_tables(made, *NOTIFICATION_TABLES, ApplicationRow, JourneyEntry)
    yield made
    await made.dispose()


def received(topic: topics.Topic, payload: BaseModel, at: datetime) -> Received[Any]:
    application_id = payload.model_dump()["application_id"]
    event = new_event(topic, payload, producer="test", application_id=application_id, at=at)
    return Received(event.envelope, payload)


def offer(application_id: uuid.UUID, now: datetime) -> p.PlacementMade:
    return p.PlacementMade(
        application_id=application_id,
        placement_id=uuid.uuid4(),
        provider_id="hc-1",
        provider_name="Xətai home care",
        provision_type=p.ProvisionType.HOME_CARE,
        district="Xətai",
        placed_at=now,
        offer_expires_at=now + timedelta(days=7),
    )


def accepted(made: p.PlacementMade, now: datetime) -> p.PlacementUpdated:
    return p.PlacementUpdated(
        application_id=made.application_id,
        placement_id=made.placement_id,
        provider_id=made.provider_id,
        status=p.PlacementStatus.ACCEPTED,
        updated_at=now,
    )


async def rows_of(engine: AsyncEngine, application_id: uuid.UUID) -> dict[str, NotificationRow]:
    async with session_factory(engine)() as session:
        query = select(NotificationRow).where(NotificationRow.application_id == application_id)
        return {row.kind: row for row in (await session.exec(query)).all()}


async def handle(engine: AsyncEngine, *items: Received[Any]) -> None:
    async with transaction(session_factory(engine)) as session:
        await on_events(session, list(items), offer_reminder=LEAD)


async def test_an_offers_reminder_is_held_then_cancelled_by_the_answer(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    made = offer(uuid.uuid4(), now)
    await handle(engine, received(topics.PLACEMENT_MADE, made, now))
    rows = await rows_of(engine, made.application_id)
    reminder = rows["offer_reminder"]
    assert (reminder.status, reminder.next_attempt_at) == ("pending", now + timedelta(days=5))
    assert reminder.context == {
        "offer_expires_at": made.offer_expires_at.isoformat(),  # type: ignore[union-attr]
        "placement_id": str(made.placement_id),
    }
    later = now + timedelta(minutes=1)
    # Another placement's answer (an older offer of the same application) leaves it be.
    other = accepted(offer(made.application_id, now), later)
    await handle(engine, received(topics.PLACEMENT_UPDATED, other, later))
    assert (await rows_of(engine, made.application_id))["offer_reminder"].status == "pending"
    await handle(engine, received(topics.PLACEMENT_UPDATED, accepted(made, later), later))
    rows = await rows_of(engine, made.application_id)
    assert rows["offer_reminder"].status == "cancelled"
    assert rows["offer_accepted"].status == "pending"


async def test_an_answer_read_before_the_offer_leaves_no_reminder(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    made = offer(uuid.uuid4(), now)
    later = now + timedelta(minutes=1)
    await handle(engine, received(topics.PLACEMENT_UPDATED, accepted(made, later), later))
    await handle(engine, received(topics.PLACEMENT_MADE, made, now))
    assert set(await rows_of(engine, made.application_id)) == {"offer_accepted", "placement_made"}


async def test_a_held_reminder_goes_after_the_offer_at_its_time(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    made = offer(uuid.uuid4(), now)
    taken_in = p.ApplicationReceived.model_validate(
        {
            "application_id": made.application_id,
            "submitted_at": now,
            "channel": "web",
            "service_requested": "home_care",
            "applicant": {
                "fin": "5ZK8L2P",
                "first_name": "Aygün",
                "last_name": "Məmmədova",
                "birth_date": "1946-01-10",
                "mobile_phone": "+994501234567",
                "district": "Xətai",
            },
            "circumstances": {},
        }
    )
    await handle(
        engine,
        received(topics.APPLICATION_RECEIVED, taken_in, now - timedelta(minutes=1)),
        received(topics.PLACEMENT_MADE, made, now),
    )

    async def due_kinds(at: datetime) -> list[str]:
        # Each due message is taken as sent, as the dispatcher would.
        async with transaction(session_factory(engine)) as session:
            ready = [row for row, _ in await due(session, at, 50)]
            own = [row for row in ready if row.application_id == made.application_id]
            for row in own:
                row.status = "sent"
                session.add(row)
        return [row.kind for row in own]

    assert await due_kinds(now + timedelta(seconds=1)) == ["received"]
    assert await due_kinds(now + timedelta(seconds=1)) == ["placement_made"]
    assert await due_kinds(now + timedelta(days=4)) == []
    assert await due_kinds(now + timedelta(days=5, seconds=1)) == ["offer_reminder"]


# Facts still missing: intake's sweeper.

POLICY = InformationPolicy(version="test", reminder_after_days=14, expire_after_days=30)


async def test_facts_still_missing_are_reminded_once_then_the_application_expires(
    engine: AsyncEngine,
) -> None:
    now = datetime.now(UTC)
    asked = now - timedelta(days=15)
    application_id = uuid.uuid4()
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        session.add(
            ApplicationRow(
                id=application_id,
                fin=None,
                service_requested="home_care",
                channel="web",
                status="needs_information",
                form="{}",
                submitted_at=asked,
                updated_at=asked,
            )
        )
        session.add(
            JourneyEntry(
                event_id=uuid.uuid4(),
                application_id=application_id,
                type="eligibility.decision.made",
                time=asked,
                summary={"outcome": "needs_information", "missing": ["disability_group"]},
            )
        )

    async def sweep(at: datetime) -> list[BaseModel]:
        async with transaction(sessions) as session:
            _, events = await take_steps(session, POLICY, at, 100)
        return [e.payload for e in events if e.envelope.application_id == application_id]

    (reminded,) = await sweep(now)
    assert isinstance(reminded, p.InformationReminded)
    assert reminded.missing == ["disability_group"]
    assert reminded.expires_at == asked + timedelta(days=30)
    assert await sweep(now + timedelta(days=1)) == []
    (expired,) = await sweep(now + timedelta(days=16))
    assert isinstance(expired, p.ApplicationExpired)
    assert await sweep(now + timedelta(days=17)) == []
    async with sessions() as session:
        row = await session.get(ApplicationRow, application_id)
        steps = (
            await session.exec(
                select(JourneyEntry.type).where(JourneyEntry.application_id == application_id)
            )
        ).all()
    assert row is not None
    assert (row.status, row.is_open) == ("expired", False)
    assert sorted(steps) == [
        "eligibility.decision.made",
        "intake.application.expired",
        "intake.information.reminded",
    ]
