"""A dead letter replayed with `socialsvc-ops` once its cause is fixed, then processed by intake.

Intake refuses a journey event about an application it has not taken in (Rejected: dead-lettered).
The application then arrives through the e-government topic, whose id intake derives from the
submission's event id, so the test knows it beforehand. Replayed, the same event is now applied.
"""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from intake.app import EGOV_NAMESPACE
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event

from .applicants import mixed_applications
from .conftest import Platform
from .ops_tool import ops_json, poll

pytestmark = pytest.mark.integration


async def send(bootstrap: str, event: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            event.topic.name, event.value(), key=event.key, headers=event.envelope.to_headers()
        )
    finally:
        await producer.stop()


async def test_a_dead_letter_replayed_after_its_cause_is_fixed_is_processed(
    platform: Platform, bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALSVC_OPERATOR", "night-shift.ops")
    since = datetime.now(UTC).isoformat()
    submission = new_event(
        topics.EGOV_APPLICATION_SUBMITTED,
        p.ApplicationForm.model_validate(mixed_applications(1, seed=7)[0]),
        producer="egov",
        application_id=uuid.uuid4(),
    )
    application_id = uuid.uuid5(EGOV_NAMESPACE, str(submission.envelope.event_id))
    early = new_event(
        topics.NOTIFICATION_DELIVERED,
        p.NotificationDelivered(
            application_id=application_id,
            notification_id=uuid.uuid4(),
            channel=p.Channel.SMS,
            delivered_at=datetime.now(UTC),
        ),
        producer="notifications",
        application_id=application_id,
    )
    await send(bootstrap, early)

    async def letters() -> list[dict[str, Any]]:
        found = await asyncio.to_thread(
            ops_json, bootstrap, "dead-letters", "list", "--consumer", "intake", "--since", since
        )
        return [d for d in found if d["application_id"] == str(application_id)]

    refused = (await poll("the dead letter", letters))[0]
    assert refused["error_class"] == "Rejected"
    assert refused["original_topic"] == topics.NOTIFICATION_DELIVERED.name
    assert "was taken in here" in refused["error_message"]

    await send(bootstrap, submission)  # the cause, fixed: intake now knows the application
    async with platform.client("intake", timeout=30) as client:

        async def journey() -> list[dict[str, Any]]:
            response = await client.get(f"/applications/{application_id}")
            steps: list[dict[str, Any]] = response.json()["journey"] if response.is_success else []
            return steps

        await poll("the application", journey)
        assert str(early.envelope.event_id) not in {s["event_id"] for s in await journey()}

        where = f"{refused['topic']}:{refused['partition']}@{refused['offset']}"
        replayed = await asyncio.to_thread(
            ops_json, bootstrap, "dead-letters", "replay", "--at", where
        )
        assert [r["offset"] for r in replayed] == [refused["offset"]]

        async def applied() -> bool:
            return str(early.envelope.event_id) in {s["event_id"] for s in await journey()}

        await poll("the replayed event in the journey", applied)

    after = {(d["topic"], d["partition"], d["offset"]): d for d in await letters()}
    assert after[(refused["topic"], refused["partition"], refused["offset"])]["replayed"]
    trace = await asyncio.to_thread(ops_json, bootstrap, "trace", str(application_id))
    replays = [step for step in trace if step["type"] == "ops.deadletter.replayed"]
    # Who replayed it; the replayed event itself keeps its own headers (no command behind it).
    assert [step["actor"] for step in replays] == ["operator:night-shift.ops"]
    assert {s["actor"] for s in trace if s["type"] == "notifications.message.delivered"} == {None}
    # Other platforms on a shared broker may take the same submission in too: look for ours.
    received = [s["actor"] for s in trace if s["type"] == "intake.application.received"]
    assert "submitter:egov-gateway" in received
