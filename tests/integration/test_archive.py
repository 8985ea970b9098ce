"""The audit archive on the real broker and PostgreSQL: what it keeps of events on the platform's
own topics, the audit queries, a replay byte for byte, and forgetting an application.

The events go to topics no service acts on (placement updates and releases, deliveries, a dead
letter), in a consumer group of the test's own that starts at the topics' end."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import psycopg
import pytest

from socialsvc_common.admin import ensure_topics
from socialsvc_common.consumer import dead_letter_headers
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.erasure import ErasureReason, SubjectErased
from socialsvc_common.contract.topics import Topic
from socialsvc_common.db import libpq_url
from socialsvc_ops.archive.store import Filter
from tests.harness import start_group_at_end
from tests.integration.archive_rig import (
    Sent,
    json_lines,
    new_rig,
    publish,
    read_all,
    recording,
)

pytestmark = pytest.mark.integration
FIN, PHONE, NAME = "5QX7K2M", "+994551234567", "Leyla"
WORKER, PROVIDER = "social_worker:aysel", "operator:provider-desk"
TOPICS = [
    topics.PLACEMENT_UPDATED.name,
    topics.NOTIFICATION_DELIVERED.name,
    topics.PLACEMENT_RELEASED.name,
    topics.DEAD_LETTERS["eligibility"].name,
]


def sent(
    event: Event, actor: str | None = None, extra: list[tuple[str, bytes]] | None = None
) -> Sent:
    headers = event.envelope.to_headers() + ([("ce_actor", actor.encode())] if actor else [])
    return Sent(event.topic.name, event.key, event.value(), headers + (extra or []))


def journey(application: UUID, start: datetime) -> list[Sent]:
    placement = uuid4()
    updated = p.PlacementUpdated(
        application_id=application,
        placement_id=placement,
        provider_id="hc-archive-test",
        status=p.PlacementStatus.ACCEPTED,
        updated_at=start,
    )
    delivered = p.NotificationDelivered(
        application_id=application,
        notification_id=uuid4(),
        channel=p.Channel.SMS,
        delivered_at=start + timedelta(seconds=2),
    )
    released = p.PlacementReleased(
        application_id=application,
        placement_id=placement,
        provider_id="hc-archive-test",
        reason="moved",
        released_at=start + timedelta(seconds=5),
    )

    def event(topic: Topic, payload: p.Payload, seconds: int) -> Event:
        at = start + timedelta(seconds=seconds)
        return new_event(topic, payload, producer="test", application_id=application, at=at)

    return [
        sent(event(topics.PLACEMENT_UPDATED, updated, 0), WORKER),
        sent(event(topics.NOTIFICATION_DELIVERED, delivered, 2)),
        sent(event(topics.PLACEMENT_RELEASED, released, 5), PROVIDER),
        dead_letter_with_personal_data(application, start + timedelta(seconds=7)),
    ]


def dead_letter_with_personal_data(application: UUID, at: datetime) -> Sent:
    applicant = p.Applicant(
        fin=FIN,
        first_name=NAME,
        last_name="Əliyeva",
        birth_date="1946-05-01",
        mobile_phone=PHONE,
        district="Şəki",
    )
    received = p.ApplicationReceived(
        application_id=application,
        submitted_at=at,
        channel="web",
        service_requested=p.ServiceRequested.HOME_CARE,
        applicant=applicant,
        circumstances=p.Circumstances(lives_alone=True),
    )
    event = new_event(
        topics.APPLICATION_RECEIVED, received, producer="intake", application_id=application, at=at
    )
    letter = p.DeadLetter(
        consumer="eligibility",
        original_topic=topics.APPLICATION_RECEIVED.name,
        original_partition=0,
        original_offset=1,
        error_class="Rejected",
        error_message="test",
        failed_at=at,
    )
    dead = Event(topics.DEAD_LETTERS["eligibility"], event.envelope, event.payload)
    return sent(dead, extra=dead_letter_headers(letter))


def table_text(database_url: str) -> bytes:
    """Every archive row as the database holds it, for a search for personal data."""
    with psycopg.connect(libpq_url(database_url)) as connection:
        rows = connection.execute(
            "SELECT a::text, k::text FROM archived_events a "
            "JOIN archive_data_keys k ON k.subject = a.key_subject"
        ).fetchall()
    return "\n".join(f"{a}{k}" for a, k in rows).encode()


async def test_the_archive_keeps_queries_replays_and_forgets(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    rig = await new_rig(bootstrap, fresh_postgres, unique)
    await start_group_at_end(bootstrap, rig.group, TOPICS)
    application, other = uuid4(), uuid4()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    mine, theirs = journey(application, start), journey(other, start)
    async with recording(rig, TOPICS) as running:
        await publish(bootstrap, mine + theirs + mine[:2])  # and a repeat of two of them
        found = await running.archived(Filter(application_id=application), 4)
        await running.archived(Filter(application_id=other), 4)

    assert [k.event_type for k in found] == [
        "assignment.placement.updated",
        "notifications.message.delivered",
        "assignment.placement.released",
        "intake.application.received",
    ]
    assert [k.actor for k in found] == [WORKER, None, PROVIDER, None]
    assert all(k.readable and k.invalid_reason is None for k in found)
    assert {k.record.value for k in found if k.record} == {s.value for s in mine}
    assert FIN.encode() not in table_text(rig.database_url)
    assert PHONE.encode() not in table_text(rig.database_url)

    by_actor = json_lines(rig.ops("query", "--actor", WORKER, "--json").stdout)
    assert {row["application_id"] for row in by_actor} == {str(application), str(other)}
    window = rig.ops(
        "query",
        *("--application", str(application), "--json", "--payload"),
        *("--since", (start + timedelta(seconds=1)).isoformat()),
        *("--until", (start + timedelta(seconds=6)).isoformat()),
    )
    rows = json_lines(window.stdout)
    assert [row["type"] for row in rows] == [found[1].event_type, found[2].event_type]
    assert rows[1]["payload"]["reason"] == "moved"
    shown = rig.ops("query", "--application", str(application), "--payload").stdout
    assert "intake.application.received" in shown
    assert FIN not in shown
    assert PHONE not in shown

    scratch = Topic(unique("test.archive.replay.v1"), p.PlacementReleased, "replay", partitions=1)
    await ensure_topics([bootstrap], [scratch])
    replayed = rig.ops("replay", "--application", str(application), "--to", scratch.name)
    assert "4 events replayed" in replayed.stderr
    back = await read_all(bootstrap, scratch.name, 4)
    assert [(b.key, b.value, b.headers) for b in back] == [
        (s.key, s.value, s.headers) for s in mine
    ]

    forgot = rig.ops("forget", str(application))
    assert "1 data keys destroyed" in forgot.stderr
    after = json_lines(rig.ops("query", "--application", str(application), "--json").stdout)
    assert [row["readable"] for row in after] == [False] * 4
    assert [row["event_id"] for row in after] == [k.event_id for k in found]
    assert [row["actor"] for row in after] == [WORKER, None, PROVIDER, None]
    refused = rig.ops("replay", "--application", str(application), check=False)
    assert refused.returncode == 1
    assert "data keys were deleted when their application was forgotten" in refused.stderr
    still = json_lines(rig.ops("query", "--application", str(other), "--json").stdout)
    assert [row["readable"] for row in still] == [True] * 4

    late = journey(application, start + timedelta(minutes=1))[:1]
    async with recording(rig, TOPICS) as running:
        await publish(bootstrap, late)
        again = await running.archived(Filter(application_id=application), 5)
    assert [k.readable for k in again] == [False] * 5


async def test_an_erasure_event_shreds_its_application_in_the_archive(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    """intake.subject.erased.v1 on its real topic: the archive keeps the erasure and, in the
    same transaction, destroys the application's data key; other applications stay readable."""
    wanted = [*TOPICS, topics.SUBJECT_ERASED.name]
    rig = await new_rig(bootstrap, fresh_postgres, unique)
    await start_group_at_end(bootstrap, rig.group, wanted)
    erased, kept = uuid4(), uuid4()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    erasure = SubjectErased(
        application_id=erased,
        erasure_id=uuid4(),
        person_ref="0" * 32,
        reason=ErasureReason.SUBJECT_REQUEST,
        legal_basis="test: a data subject's request",
        erased_at=start + timedelta(minutes=1),
    )
    notice = new_event(
        topics.SUBJECT_ERASED,
        erasure,
        producer="intake",
        application_id=erased,
        at=erasure.erased_at,
    )
    async with recording(rig, wanted) as running:
        await publish(bootstrap, journey(erased, start) + journey(kept, start) + [sent(notice)])
        found = await running.archived(Filter(application_id=erased), 5)
        others = await running.archived(Filter(application_id=kept), 4)

    assert found[-1].event_type == "intake.subject.erased"
    assert [k.readable for k in found] == [False] * 5
    assert [k.readable for k in others] == [True] * 4
