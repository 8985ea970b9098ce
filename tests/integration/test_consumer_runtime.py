"""Inbox, outbox and dead letters together, on the real broker and PostgreSQL.

A consumer applies events into a table and emits one event per applied event through the outbox.
Fed a good event, a malformed record, a record without envelope, another good event and a repeat of
the first, it must apply each good event once, emit once each, and dead-letter the two bad records
with their provenance, without stopping at them.
"""

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
import sqlalchemy
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.consumer import EventConsumer, Received, Rejected, read_dead_letter
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Envelope, Event, new_event
from socialsvc_common.contract.topics import Topic
from socialsvc_common.kafka import (
    keep_raw,
    make_broker,
    record_of,
    records_of,
    subscriber,
    tolerant_batch_headers,
    tolerant_headers,
)
from socialsvc_common.metrics import Metrics
from socialsvc_common.outbox import OutboxRelay, OutboxRow
from tests.integration.consumer_rig import consumer_rig

pytestmark = pytest.mark.integration


class Applied(SQLModel, table=True):
    __tablename__ = "test_applied"

    event_id: UUID = Field(primary_key=True)
    consumer: str


def released(application_id: UUID) -> p.PlacementReleased:
    return p.PlacementReleased(
        application_id=application_id,
        placement_id=uuid4(),
        provider_id="hc-xetai",
        reason="moved",
        released_at=datetime.now(UTC),
    )


async def read_all(
    bootstrap: str, topic: str, count: int, seconds: float = 30
) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while len(found) < count and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [(r.value, dict(r.headers)) for r in records]
        # Anything beyond `count` would be a duplicate: give it a moment to show up.
        for records in (await consumer.getmany(timeout_ms=1500)).values():
            found += [(r.value, dict(r.headers)) for r in records]
    finally:
        await consumer.stop()
    return found


def subscribe_in_batches(
    broker: KafkaBroker, source: Topic, group: str, consumer: EventConsumer
) -> None:
    @subscriber(
        broker,
        source,
        group_id=group,
        parser=tolerant_batch_headers,
        decoder=keep_raw,
        batch=True,
        max_records=100,
    )
    async def on_records(message: KafkaMessage) -> None:
        await consumer.process_batch(records_of(message))


@pytest.mark.parametrize("batch", [False, True], ids=["record", "batch"])
async def test_good_events_once_bad_records_dead_lettered_nothing_blocked(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str], batch: bool
) -> None:
    rig = await consumer_rig(bootstrap, fresh_postgres, unique("runtime"), Applied)
    name, source, output, dead = rig.name, rig.source, rig.output, rig.dead
    settings, engine, sessions, producer = rig.settings, rig.engine, rig.sessions, rig.producer
    relay = OutboxRelay(sessions, producer, idle_seconds=0.1)
    consumer = EventConsumer(name, sessions, producer, dead, relay=relay)

    @consumer.handle(source)
    async def apply(
        session: AsyncSession, batch: Sequence[Received[p.PlacementReleased]]
    ) -> list[Event]:
        events: list[Event] = []
        for item in batch:
            envelope, payload = item.envelope, item.payload
            session.add(Applied(event_id=envelope.event_id, consumer=name))
            events += [
                new_event(
                    output,
                    payload,
                    producer=name,
                    application_id=payload.application_id,
                    cause=envelope,
                )
            ]
        return events

    broker = make_broker(settings, client_id=name)

    if batch:
        # The records are all there before the consumer starts: they come as one batch, whose
        # bad records send it down the record-by-record path.
        subscribe_in_batches(broker, source, name, consumer)
    else:

        @subscriber(broker, source, group_id=name, parser=tolerant_headers, decoder=keep_raw)
        async def on_record(message: KafkaMessage) -> None:
            await consumer.process(record_of(message))

    first = new_event(source, released(uuid4()), producer="test", application_id=uuid4())
    second = new_event(source, released(uuid4()), producer="test", application_id=uuid4())
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    for value, headers in [
        (first.value(), first.envelope.to_headers()),
        (b"{not json", second.envelope.to_headers()),
        (second.value(), []),
        (second.value(), [("ce_id", b"\xff\xfe"), ("note", None)]),
        (second.value(), [*second.envelope.to_headers(), ("ce_actor", b"nurse:anna")]),
        (second.value(), second.envelope.to_headers()),
        (first.value(), first.envelope.to_headers()),
    ]:
        await raw.send_and_wait(source.name, value, key=b"k", headers=headers)
    await raw.stop()

    await producer.start()
    relay_task = asyncio.create_task(relay.run())
    await broker.start()
    try:
        emitted = await read_all(bootstrap, output.name, 2)
        dead_letters = await read_all(bootstrap, dead.name, 4)
    finally:
        await broker.stop()
        relay_task.cancel()
        await producer.stop()

    async with sessions() as session:
        applied = (await session.exec(select(Applied).where(Applied.consumer == name))).all()
    await engine.dispose()
    assert sorted(row.event_id for row in applied) == sorted(
        [first.envelope.event_id, second.envelope.event_id]
    )
    causes = [Envelope.from_headers(list(headers.items())).causation_id for _, headers in emitted]
    assert causes == [first.envelope.event_id, second.envelope.event_id]
    letters = [read_dead_letter(list(headers.items())) for _, headers in dead_letters]
    assert [(letter.original_offset, letter.error_class) for letter in letters] == [
        (1, "InvalidRecord"),
        (2, "InvalidRecord"),
        (3, "InvalidRecord"),
        (4, "InvalidRecord"),
    ]
    assert "header ce_id is not UTF-8" in letters[2].error_message
    assert "header ce_actor is not valid: an actor is <role>:<name>" in letters[3].error_message
    assert "Invalid JSON" in letters[0].error_message
    assert "missing CloudEvents headers" in letters[1].error_message
    assert [value for value, _ in dead_letters] == [b"{not json"] + [second.value()] * 3
    assert dead_letters[2][1]["ce_id"] == b"\xff\xfe"  # dead-lettered exactly as it came
    assert all(x.original_topic == source.name and x.consumer == name for x in letters)


async def test_a_batch_is_one_transaction_and_a_refusal_in_it_spares_the_rest(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    rig = await consumer_rig(bootstrap, fresh_postgres, unique("batch"), Applied)
    name, source, output, dead = rig.name, rig.source, rig.output, rig.dead
    settings, engine, sessions, producer = rig.settings, rig.engine, rig.sessions, rig.producer
    # No relay: every commit counted here is the consumer's.
    commits: list[object] = []
    sqlalchemy.event.listen(engine.sync_engine, "commit", commits.append)
    consumer = EventConsumer(name, sessions, producer, dead)

    @consumer.handle(source)
    async def apply(
        session: AsyncSession, batch: Sequence[Received[p.PlacementReleased]]
    ) -> list[Event]:
        events: list[Event] = []
        for item in batch:
            envelope, payload = item.envelope, item.payload
            if payload.reason == "refuse":
                raise Rejected("this one is refused")
            session.add(Applied(event_id=envelope.event_id, consumer=name))
            events += [
                new_event(output, payload, producer=name, application_id=payload.application_id)
            ]
        return events

    broker = make_broker(settings, client_id=name)
    subscribe_in_batches(broker, source, name, consumer)

    def fresh(reason: str = "moved") -> Event:
        payload = released(uuid4()).model_copy(update={"reason": reason})
        return new_event(source, payload, producer="test", application_id=payload.application_id)

    good, later, refused = [fresh() for _ in range(20)], [fresh(), fresh()], fresh("refuse")
    await send_all(bootstrap, source, good)
    await producer.start()
    await broker.start()
    try:
        await wait_for_rows(sessions, name, 20)
        commits_for_twenty = len(commits)
        # Sent together, so that they most likely arrive as one batch.
        await send_all(bootstrap, source, [later[0], refused, later[1]])
        await wait_for_rows(sessions, name, 22)
        dead_letters = await read_all(bootstrap, dead.name, 1)
    finally:
        await broker.stop()
        await producer.stop()
    async with sessions() as session:
        outbox = (await session.exec(select(OutboxRow).order_by(OutboxRow.id))).all()  # type: ignore[arg-type]
    await engine.dispose()

    assert commits_for_twenty < 20
    letters = [read_dead_letter(list(headers.items())) for _, headers in dead_letters]
    assert [(x.original_offset, x.error_class) for x in letters] == [(21, "Rejected")]
    assert "this one is refused" in letters[0].error_message
    # Applied once each and in the order consumed: the refusal took nothing down with it.
    assert [row.value for row in outbox] == [e.value() for e in [*good, *later]]


async def send_all(bootstrap: str, topic: Topic, events: list[Event]) -> None:
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=100)
    await raw.start()
    try:
        sent = [
            await raw.send(topic.name, e.value(), key=b"k", headers=e.envelope.to_headers())
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await raw.stop()


async def wait_for_rows(
    sessions: async_sessionmaker[AsyncSession], name: str, count: int, seconds: float = 30
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    found = 0
    while asyncio.get_running_loop().time() < deadline:
        async with sessions() as session:
            found = len((await session.exec(select(Applied).where(Applied.consumer == name))).all())
        if found >= count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{found} of {count} events applied")


async def test_a_bad_record_in_a_batch_is_timed_from_the_batch_reaching_the_handler(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    """What nothing behind a bad record could do meanwhile: the batch's failed attempt and the
    good records before it, one by one, count in the hold of a refusal. A record that cannot be
    parsed goes at once, before the good ones of its batch, which are applied together."""
    rig = await consumer_rig(bootstrap, fresh_postgres, unique("hold"))
    source, engine, producer = rig.source, rig.engine, rig.producer
    metrics = Metrics(rig.name)
    consumer = EventConsumer(rig.name, rig.sessions, producer, rig.dead, metrics=metrics)
    slow = 0.3

    @consumer.handle(source)
    async def apply(
        session: AsyncSession, batch: Sequence[Received[p.PlacementReleased]]
    ) -> list[Event]:
        events: list[Event] = []
        for item in batch:
            if item.payload.reason == "refuse":
                raise Rejected("refused")
            await asyncio.sleep(slow)
            continue
        return events

    def record(offset: int, reason: str) -> ConsumerRecord[bytes, bytes]:
        payload = released(uuid4()).model_copy(update={"reason": reason})
        event = new_event(source, payload, producer="test", application_id=payload.application_id)
        value, headers = event.value(), event.envelope.to_headers()
        return ConsumerRecord(source.name, 0, offset, 0, 0, b"k", value, None, 1, 1, headers)

    await producer.start()
    try:
        # The good record is applied twice before the refusal is reached alone: in the batch's
        # transaction (rolled back) and on its own.
        await consumer.process_batch([record(0, "moved"), record(1, "refuse")])
        await consumer.process(record(2, "refuse"))
        good = [record(3, "moved"), record(5, "moved")]
        malformed = ConsumerRecord(source.name, 0, 4, 0, 0, b"k", b"{not json", None, 1, 1, [])
        commits: list[object] = []
        sqlalchemy.event.listen(engine.sync_engine, "commit", commits.append)
        await consumer.process_batch([good[0], malformed, good[1]])
    finally:
        await producer.stop()
        await engine.dispose()

    def sample(family: str) -> float:
        return metrics.registry.get_sample_value(family, {"topic": source.name}) or 0.0

    assert sample("socialsvc_dead_letter_hold_seconds_count") == 3
    assert sample("socialsvc_dead_letter_hold_seconds_sum") >= 2 * slow
    # The refusal that came alone and the malformed record held their partition only for their
    # own dead letter (the good ones of its batch, 2 x 0.3 s, came after it).
    labels = {"topic": source.name, "le": "0.5"}
    assert (
        metrics.registry.get_sample_value("socialsvc_dead_letter_hold_seconds_bucket", labels) == 2
    )
    # The good ones around it in one transaction, not one by one.
    assert len(commits) == 1
