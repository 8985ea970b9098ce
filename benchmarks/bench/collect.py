"""Reads the run's events back from the topics: who, what and when (ce_time), and how big."""

import json
from collections.abc import Iterable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.bench.journeys import Kind, Observed
from socialsvc_common.contract import topics

KINDS = {
    topics.APPLICATION_RECEIVED.name: Kind.RECEIVED,
    topics.DECISION_MADE.name: Kind.DECIDED,
    topics.PLACEMENT_MADE.name: Kind.PLACED,
    topics.PLACEMENT_WAITLISTED.name: Kind.PLACED,
    topics.PLACEMENT_REFUSED.name: Kind.REFUSED,
    topics.NOTIFICATION_DELIVERED.name: Kind.DELIVERED,
    topics.NOTIFICATION_FAILED.name: Kind.FAILED,
}


def observed(topic: str, headers: Iterable[tuple[str, bytes]], value: bytes) -> Observed | None:
    """The event a record carries, or None for one that ends nothing (a failure to be retried)."""
    found = dict(headers)
    kind = KINDS[topic]
    if kind is Kind.FAILED and not json.loads(value).get("final", False):
        return None
    return Observed(
        application_id=found["ce_subject"].decode(),
        kind=kind,
        time=datetime.fromisoformat(found["ce_time"].decode()).timestamp(),
        size=len(value),
    )


async def read_events(bootstrap: str, since: dict[TopicPartition, int]) -> list[Observed]:
    """Every event on the journey's topics after the offsets `since` (taken when the run began)."""
    wanted = {tp: offset for tp, offset in since.items() if tp.topic in KINDS}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        ends = await consumer.end_offsets(list(wanted))
        for tp, offset in wanted.items():
            consumer.seek(tp, offset)
        events: list[Observed] = []
        pending = {tp for tp in wanted if ends[tp] > wanted[tp]}
        while pending:
            for tp, records in (await consumer.getmany(*pending, timeout_ms=1000)).items():
                for record in records:
                    if record.offset < ends[tp]:
                        event = observed(tp.topic, record.headers, record.value or b"")
                        if event is not None:
                            events.append(event)
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return events
    finally:
        await consumer.stop()
