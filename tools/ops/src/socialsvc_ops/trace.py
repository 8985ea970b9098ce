"""One application's journey across every registry topic, in the order things happened.

Every record about an application is keyed by its id (dead letters keep the original key), so on
each topic only the one partition that key hashes to needs reading.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from socialsvc_common.contract.topics import REGISTRY
from socialsvc_common.logs import redact_text
from socialsvc_ops.records import Seen, onlooker, partitions, read_range, start_offsets

# Payload fields that say how a step went without saying anything about the person.
OUTCOME_FIELDS = ("outcome", "status", "channel", "provision_type", "reason", "revision")


@dataclass(frozen=True, slots=True)
class Step:
    seen: Seen
    gap_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        payload = self.seen.payload() or {}
        actor = self.seen.header("ce_actor")
        return {
            "time": self.seen.time.isoformat(),
            "type": self.seen.event_type,
            "topic": self.seen.topic,
            "partition": self.seen.partition,
            "offset": self.seen.offset,
            "source": self.seen.header("ce_source"),
            # Who gave the command behind the step (`<role>:<name>`); none for a service's own.
            "actor": redact_text(actor) if actor else None,
            "gap_seconds": self.gap_seconds,
            "detail": {
                k: redact_text(payload[k])
                for k in OUTCOME_FIELDS
                if isinstance(payload.get(k), str)
            }
            | self._dead_letter(),
        }

    def _dead_letter(self) -> dict[str, Any]:
        reason = self.seen.header("dlq_error_class")
        return {"dead_letter": reason} if reason else {}


class NotAnApplicationId(ValueError):
    """The text given is not an application id (a UUID)."""


def application_key(text: str) -> bytes:
    try:
        return str(UUID(text)).encode()
    except ValueError:
        raise NotAnApplicationId(f"{text!r} is not an application id (a UUID)") from None


def journey(records: list[Seen]) -> list[Step]:
    """The records in event-time order (broker order breaks ties), each with the gap since the
    step before it."""
    ordered = sorted(records, key=lambda s: (s.time, s.timestamp_ms, s.topic, s.offset))
    steps: list[Step] = []
    previous: datetime | None = None
    for seen in ordered:
        gap = (seen.time - previous).total_seconds() if previous is not None else None
        steps.append(Step(seen, gap))
        previous = seen.time
    return steps


async def trace(
    bootstrap: str, application_id: str, *, since: datetime | None = None
) -> list[Step]:
    """Every record about one application on the registry's topics, as a journey."""
    key = application_key(application_id)
    by_topic: dict[str, list[int]] = {}
    for tp in await partitions(bootstrap, [t.name for t in REGISTRY]):
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    wanted = [
        TopicPartition(topic, DefaultPartitioner()(key, found, found))
        for topic, found in by_topic.items()
    ]
    consumer = onlooker(bootstrap)
    await consumer.start()
    try:
        records = await read_range(consumer, await start_offsets(consumer, wanted, since))
    finally:
        await consumer.stop()
    return journey([r for r in records if r.key == key])
