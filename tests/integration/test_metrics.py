"""The metrics of the consumer runtime and outbox, on the real broker and PostgreSQL.

Four records (a good event, a malformed record, another good event, a repeat of the first) go to a
one-partition topic. While the handler holds the first, the lag is the three behind it; once all
are consumed the counters say 2 processed, 1 duplicate, 1 dead-lettered; the outbox holds the two
outgoing events (relay not yet running) and its age grows; once the relay runs it is empty.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaMessage
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.consumer import EventConsumer, Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.kafka import keep_raw, make_broker, record_of, subscriber
from socialsvc_common.metrics import Metrics, consumer_lag
from socialsvc_common.outbox import OutboxRelay, unsent_backlog
from socialsvc_common.service import build_runtime
from socialsvc_common.settings import ServiceSettings
from tests.integration.consumer_rig import consumer_rig

pytestmark = pytest.mark.integration


def released() -> p.PlacementReleased:
    return p.PlacementReleased(
        application_id=uuid4(),
        placement_id=uuid4(),
        provider_id="hc-xetai",
        reason="moved",
        released_at=datetime.now(UTC),
    )


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_counters_lag_and_outbox_gauges_show_what_happened(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    rig = await consumer_rig(bootstrap, fresh_postgres, unique("metrics"))
    name, source, output, dead = rig.name, rig.source, rig.output, rig.dead
    settings, engine, sessions, producer = rig.settings, rig.engine, rig.sessions, rig.producer
    metrics = Metrics(name)
    relay = OutboxRelay(sessions, producer, idle_seconds=0.1, metrics=metrics)
    consumer = EventConsumer(name, sessions, producer, dead, metrics=metrics)
    gate = asyncio.Event()

    @consumer.handle(source)
    async def apply(
        session: AsyncSession, batch: Sequence[Received[p.PlacementReleased]]
    ) -> list[Event]:
        events: list[Event] = []
        for item in batch:
            envelope, payload = item.envelope, item.payload
            await gate.wait()
            events += [
                new_event(output, payload, producer=name, application_id=uuid4(), cause=envelope)
            ]
        return events

    broker = make_broker(settings, client_id=name)
    on_record = subscriber(broker, source, group_id=name, decoder=keep_raw)

    @on_record
    async def handle(message: KafkaMessage) -> None:
        await consumer.process(record_of(message))

    first = new_event(source, released(), producer="test", application_id=uuid4())
    second = new_event(source, released(), producer="test", application_id=uuid4())
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await raw.start()
    for value, headers in [
        (first.value(), first.envelope.to_headers()),
        (b"{not json", second.envelope.to_headers()),
        (second.value(), second.envelope.to_headers()),
        (first.value(), first.envelope.to_headers()),
    ]:
        await raw.send_and_wait(source.name, value, key=b"k", headers=headers)
    await raw.stop()

    def sample(family: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(family, labels) or 0.0

    await producer.start()
    await broker.start()
    relay_task: asyncio.Task[None] | None = None
    try:
        kafka = on_record.consumer
        assert kafka is not None

        async def lag_is(expected: int) -> bool:
            metrics.set_lag(await consumer_lag(kafka))
            labels = {"service": name, "topic": source.name, "partition": "0"}
            return metrics.registry.get_sample_value("socialsvc_consumer_lag_records", labels) == (
                expected
            )

        # The handler holds the first record: the three after it wait.
        await eventually(lambda: lag_is(3))
        gate.set()

        async def consumed_all() -> bool:
            return (
                sum(
                    sample("socialsvc_messages_in_total", topic=source.name, outcome=o)
                    for o in ("processed", "duplicate", "dead_lettered")
                )
                == 4
            )

        await eventually(consumed_all)
        await eventually(lambda: lag_is(0))
        await asyncio.sleep(0.5)
        metrics.set_outbox(*await unsent_backlog(sessions))
        assert sample("socialsvc_outbox_unsent_events", service=name) == 2
        assert sample("socialsvc_outbox_oldest_unsent_age_seconds", service=name) >= 0.5

        relay_task = asyncio.create_task(relay.run())

        async def outbox_empty() -> bool:
            metrics.set_outbox(*await unsent_backlog(sessions))
            return sample("socialsvc_outbox_unsent_events", service=name) == 0

        await eventually(outbox_empty)
    finally:
        await broker.stop()
        if relay_task is not None:
            relay_task.cancel()
        await producer.stop()
        await engine.dispose()

    assert sample("socialsvc_outbox_oldest_unsent_age_seconds", service=name) == 0
    assert sample("socialsvc_messages_in_total", topic=source.name, outcome="processed") == 2
    assert sample("socialsvc_messages_in_total", topic=source.name, outcome="duplicate") == 1
    assert sample("socialsvc_messages_in_total", topic=source.name, outcome="dead_lettered") == 1
    assert sample("socialsvc_processing_seconds_count", topic=source.name) == 4
    # The first record waited for the gate: at least one observation above 1 ms.
    assert sample("socialsvc_processing_seconds_bucket", topic=source.name, le="0.001") < 4
    assert sample("socialsvc_errors_total", error_class="InvalidRecord") == 1
    assert (
        sample("socialsvc_dead_letters_total", topic=source.name, error_class="InvalidRecord") == 1
    )
    assert sample("socialsvc_messages_out_total", topic=output.name) == 2
    assert sample("socialsvc_messages_out_total", topic=dead.name) == 1
    text = metrics.render().decode()
    assert "socialsvc_outbox_oldest_unsent_age_seconds{service=" in text


async def test_metrics_are_served_while_the_database_is_down() -> None:
    settings = ServiceSettings(
        kafka_bootstrap_servers=["127.0.0.1:9"],
        database_url="postgresql+asyncpg://nobody:pw@127.0.0.1:9/none",
    )
    runtime = build_runtime("eligibility", settings)
    topic = "intake.application.received.v1"
    runtime.metrics.consumed(topic, "processed", 0.01)
    try:
        text = (await runtime.scrape()).decode()
    finally:
        await runtime.engine.dispose()
    assert f'socialsvc_messages_in_total{{outcome="processed",topic="{topic}"}} 1.0' in text
