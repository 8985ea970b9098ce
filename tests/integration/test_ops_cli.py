"""`socialsvc-ops` against the real broker, fed events this test publishes and knows.

The events go to topics only intake's journey recorder and nobody else consumes (placement updates
and releases, deliveries) or to a dead-letter topic, so no service acts on them.
"""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from socialsvc_common.admin import ensure_topics
from socialsvc_common.consumer import dead_letter_headers
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.topics import Topic

pytestmark = pytest.mark.integration
FIN, PHONE, EMAIL, NAME = "5QX7K2M", "+994551234567", "leyla.aliyeva@example.az", "Leyla"


def ops(bootstrap: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "socialsvc_ops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def publish(
    bootstrap: str, *events: Event, extra: list[tuple[str, bytes]] | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                event.topic.name,
                value=event.value(),
                key=event.key,
                headers=[*event.envelope.to_headers(), *(extra or [])],
            )
    finally:
        await producer.stop()


def journey_of(application_id: UUID, start: datetime) -> list[Event]:
    placement = uuid4()
    updated = p.PlacementUpdated(
        application_id=application_id,
        placement_id=placement,
        provider_id="hc-ops-test",
        status=p.PlacementStatus.ACCEPTED,
        updated_at=start,
    )
    delivered = p.NotificationDelivered(
        application_id=application_id,
        notification_id=uuid4(),
        channel=p.Channel.SMS,
        delivered_at=start + timedelta(seconds=2),
    )
    released = p.PlacementReleased(
        application_id=application_id,
        placement_id=placement,
        provider_id="hc-ops-test",
        reason="moved",
        released_at=start + timedelta(seconds=5),
    )
    return [
        new_event(topic, payload, producer="ops-test", application_id=application_id, at=at)
        for topic, payload, at in (
            (topics.PLACEMENT_UPDATED, updated, start),
            (topics.NOTIFICATION_DELIVERED, delivered, start + timedelta(seconds=2)),
            (topics.PLACEMENT_RELEASED, released, start + timedelta(seconds=5)),
        )
    ]


def received_with_personal_data(application_id: UUID) -> Event:
    applicant = p.Applicant(
        fin=FIN,
        first_name=NAME,
        last_name="Əliyeva",
        birth_date="1946-05-01",
        mobile_phone=PHONE,
        email=EMAIL,
        district="Şəki",
    )
    received = p.ApplicationReceived(
        application_id=application_id,
        submitted_at=datetime.now(UTC),
        channel="web",
        service_requested=p.ServiceRequested.HOME_CARE,
        applicant=applicant,
        circumstances=p.Circumstances(lives_alone=True),
    )
    event = new_event(
        topics.APPLICATION_RECEIVED, received, producer="intake", application_id=application_id
    )
    # As the eligibility consumer would have dead-lettered it: same key, value and headers.
    return Event(topics.DEAD_LETTERS["eligibility"], event.envelope, event.payload)


def letter_headers() -> list[tuple[str, bytes]]:
    reason = p.DeadLetter(
        consumer="eligibility",
        original_topic=topics.APPLICATION_RECEIVED.name,
        original_partition=1,
        original_offset=42,
        error_class="Rejected",
        error_message=f"rule set has no rule for applicant {FIN}",
        failed_at=datetime.now(UTC),
    )
    return dead_letter_headers(reason)


def assert_no_personal_data(text: str) -> None:
    for secret in (FIN, PHONE, EMAIL, NAME, "Əliyeva", "1946-05-01"):
        assert secret not in text


async def test_tail_trace_and_dead_letters_show_known_events_masked(bootstrap: str) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    followed, other, person = uuid4(), uuid4(), uuid4()
    start = datetime.now(UTC).replace(microsecond=0)
    steps = journey_of(followed, start)
    # Published out of order: the trace must still follow the events' own times.
    await publish(bootstrap, steps[2], steps[0], steps[1], *journey_of(other, start))
    await publish(bootstrap, received_with_personal_data(person), extra=letter_headers())

    # Only the three topics: an intake of a platform running beside this test dead-letters these
    # events (it never took the application in), and those copies carry the same application id.
    only = [arg for e in steps for arg in ("--topic", e.topic.name)]
    tailed = await asyncio.to_thread(
        ops, bootstrap, "tail", *only, "--since", since, "--application", str(followed),
        "--json", "--limit", "3",
    )  # fmt: skip
    lines = json_lines(tailed.stdout)
    assert {line["application_id"] for line in lines} == {str(followed)}
    assert sorted(line["type"] for line in lines) == sorted(e.envelope.type for e in steps)

    by_type = await asyncio.to_thread(
        ops, bootstrap, "tail", "--since", since, "--type", "notifications.message.delivered",
        "--application", str(other), "--json", "--limit", "1",
    )  # fmt: skip
    assert [line["type"] for line in json_lines(by_type.stdout)] == [
        "notifications.message.delivered"
    ]

    by_district = await asyncio.to_thread(
        ops, bootstrap, "tail", "--since", since, "--district", "Şəki",
        "--application", str(person), "--limit", "1",
    )  # fmt: skip
    assert str(person) in by_district.stdout
    assert "[REDACTED]" in by_district.stdout
    assert_no_personal_data(by_district.stdout)

    traced = await asyncio.to_thread(ops, bootstrap, "trace", str(followed), "--json")
    # Dead-lettered copies (see above) share their original's time, so the gaps stay the same.
    dead = {t.name for t in topics.DEAD_LETTERS.values()}
    journey = [s for s in json_lines(traced.stdout) if s["topic"] not in dead]
    assert [s["type"] for s in journey] == [e.envelope.type for e in steps]
    assert [s["gap_seconds"] for s in journey] == [None, 2.0, 3.0]
    shown = await asyncio.to_thread(ops, bootstrap, "trace", str(followed))
    assert "+2.0 s" in shown.stdout
    assert "+3.0 s" in shown.stdout

    listed = await asyncio.to_thread(
        ops,
        bootstrap,
        "dead-letters",
        "list",
        "--consumer",
        "eligibility",
        "--since",
        since,
        "--json",
    )
    letters = [d for d in json_lines(listed.stdout) if d["application_id"] == str(person)]
    assert len(letters) == 1
    assert letters[0]["error_class"] == "Rejected"
    assert letters[0]["original_topic"] == topics.APPLICATION_RECEIVED.name
    assert letters[0]["error_message"] == "rule set has no rule for applicant [REDACTED]"
    assert_no_personal_data(listed.stdout)


async def test_tail_follows_events_as_they_arrive(bootstrap: str) -> None:
    application = uuid4()
    env = {**os.environ, "SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    command = [sys.executable, "-m", "socialsvc_ops", "tail", "--application", str(application)]
    tail = subprocess.Popen(  # noqa: ASYNC220 - it runs beside the test, which reads it in a thread
        [*command, "--json", "--limit", "3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert tail.stderr is not None
        # It says so once it has taken its starting positions at the topics' ends.
        assert "following" in await asyncio.to_thread(tail.stderr.readline)
        await asyncio.sleep(2)
        await publish(bootstrap, *journey_of(application, datetime.now(UTC)))
        out, _ = await asyncio.to_thread(tail.communicate, timeout=120)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    assert [line["application_id"] for line in json_lines(out)] == [str(application)] * 3


async def test_lag_shows_committed_end_and_the_oldest_record_waiting(
    bootstrap: str, unique: Callable[[str], str]
) -> None:
    name = unique("lag")
    topic = Topic(f"test.{name.replace('-', '')}.lag.v1", p.PlacementReleased, "lag", partitions=2)
    await ensure_topics([bootstrap], [topic])
    first = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp() * 1000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(
                topic.name, b"{}", partition=0, timestamp_ms=first + i * 60_000
            )
        await producer.send_and_wait(topic.name, b"{}", partition=1, timestamp_ms=first)
    finally:
        await producer.stop()
    group = f"group-{name}"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic.name, 0), TopicPartition(topic.name, 1)])
        await consumer.commit({TopicPartition(topic.name, 0): 2, TopicPartition(topic.name, 1): 1})
    finally:
        await consumer.stop()

    shown = await asyncio.to_thread(ops, bootstrap, "lag", "--group", group, "--json")
    rows = {row["partition"]: row for row in json_lines(shown.stdout)}
    assert (rows[0]["committed"], rows[0]["end"], rows[0]["lag"]) == (2, 5, 3)
    oldest = datetime.fromisoformat(rows[0]["oldest_unconsumed"])
    assert int(oldest.timestamp() * 1000) == first + 2 * 60_000
    assert rows[0]["waiting_seconds"] >= 8 * 60
    assert (rows[1]["committed"], rows[1]["end"], rows[1]["lag"]) == (1, 1, 0)
    assert rows[1]["oldest_unconsumed"] is None
