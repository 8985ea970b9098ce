"""Notifications' consumer on real PostgreSQL: a poll's events of several topics are stored by one
call of its handler, so a batch writes its messages with one statement however many topics it
holds, and an offer answered in the same batch gets no reminder."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import ConsumerRecord
from pydantic import BaseModel
from sqlalchemy import event
from sqlmodel import select

from notifications.app import NotificationsSettings, build_app
from notifications.store import NotificationRow
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.service import Runtime
from tests.harness import migrate
from tests.integration.statistics_rig import record
from tests.integration.test_case_turns import offer

pytestmark = pytest.mark.integration


@pytest.fixture
async def runtime(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    url = await migrate("notifications", fresh_postgres)
    keys = tmp_path / "keys.jsonl"
    keys.touch()
    settings = NotificationsSettings(database_url=url, api_keys_file=keys)
    made: Runtime = build_app(settings).state.runtime
    yield made
    await made.engine.dispose()


def received(application_id: UUID, now: datetime) -> p.ApplicationReceived:
    applicant = p.Applicant(
        fin="5HJK2LM",
        first_name="Gülnarə",
        last_name="Əliyeva",
        birth_date="1948-02-11",
        mobile_phone="+994501234567",
        district="Xətai",
    )
    return p.ApplicationReceived(
        application_id=application_id,
        submitted_at=now,
        channel="web",
        service_requested=p.ServiceRequested.HOME_CARE,
        applicant=applicant,
        circumstances=p.Circumstances(lives_alone=True),
    )


def released(made: p.PlacementMade, now: datetime) -> p.PlacementReleased:
    return p.PlacementReleased(
        application_id=made.application_id,
        placement_id=made.placement_id,
        provider_id=made.provider_id,
        reason="moved",
        released_at=now,
    )


def as_record(topic: topics.Topic, payload: BaseModel, offset: int) -> ConsumerRecord[bytes, bytes]:
    application_id = payload.model_dump()["application_id"]
    made = new_event(topic, payload, producer="test", application_id=application_id)
    return record(made, offset)


async def test_a_batch_of_several_topics_writes_its_messages_in_one_statement(
    runtime: Runtime,
) -> None:
    now = datetime.now(UTC)
    people = [uuid4() for _ in range(3)]
    offers = [offer(person, now) for person in people]
    records = [
        *(
            as_record(topics.APPLICATION_RECEIVED, received(person, now), i)
            for i, person in enumerate(people)
        ),
        *(as_record(topics.PLACEMENT_MADE, made, i) for i, made in enumerate(offers)),
        # The first offer is answered in the same poll: its reminder is never stored.
        as_record(topics.PLACEMENT_RELEASED, released(offers[0], now), 0),
    ]
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
            inserts.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await runtime.consumer.process_batch(records)
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", seen)

    assert len(inserts) == 1
    async with runtime.sessions() as session:
        stored = (await session.exec(select(NotificationRow))).all()
    kinds = sorted((row.application_id == people[0], row.kind) for row in stored)
    assert kinds == sorted(
        [
            (True, "received"),
            (True, "placement_made"),
            (True, "placement_released"),
            *[(False, kind) for kind in ("received", "placement_made", "offer_reminder") * 2],
        ]
    )
