"""Consumer lag: per group and partition, how far the committed offset is behind the end, and since
when the oldest record not yet consumed has been waiting."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from socialsvc_ops.login import kafka_login
from socialsvc_ops.records import POLL_MS, onlooker

OLDEST_LOOKUP_POLLS = 6


@dataclass(frozen=True, slots=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    oldest_unconsumed: datetime | None

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)

    def as_dict(self, now: datetime) -> dict[str, Any]:
        oldest = self.oldest_unconsumed
        return {
            "group": self.group,
            "topic": self.topic,
            "partition": self.partition,
            "committed": self.committed,
            "end": self.end,
            "lag": self.lag,
            "oldest_unconsumed": oldest.isoformat() if oldest else None,
            "waiting_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
        }


async def _committed(
    bootstrap: str, wanted: list[str] | None
) -> dict[str, dict[TopicPartition, int]]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="socialsvc-ops", **kafka_login()
    )
    await admin.start()
    try:
        groups = sorted(str(g[0]) for g in await admin.list_consumer_groups())
        chosen = [g for g in groups if wanted is None or g in wanted]
        result: dict[str, dict[TopicPartition, int]] = {}
        for group in chosen:
            offsets = await admin.list_consumer_group_offsets(group)
            result[group] = {tp: o.offset for tp, o in offsets.items() if o.offset >= 0}
        return result
    finally:
        await admin.close()


async def _stored_at(
    consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int
) -> datetime | None:
    """The broker time of the record at `offset`: the oldest one the group has not consumed."""
    consumer.assign([tp])
    consumer.seek(tp, offset)
    for _ in range(OLDEST_LOOKUP_POLLS):
        batch = (await consumer.getmany(tp, timeout_ms=POLL_MS, max_records=1)).get(tp)
        if batch:
            return datetime.fromtimestamp(batch[0].timestamp / 1000, UTC)
    return None


async def lag_report(bootstrap: str, groups: list[str] | None = None) -> list[PartitionLag]:
    """Lag of every (chosen) consumer group on every partition it has committed offsets for."""
    committed = await _committed(bootstrap, groups)
    tps = sorted({tp for offsets in committed.values() for tp in offsets})
    if not tps:
        return []
    consumer = onlooker(bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        behind = {
            (tp, offset)
            for offsets in committed.values()
            for tp, offset in offsets.items()
            if offset < ends[tp]
        }
        oldest = {(tp, offset): await _stored_at(consumer, tp, offset) for tp, offset in behind}
    finally:
        await consumer.stop()
    return [
        PartitionLag(group, tp.topic, tp.partition, offset, ends[tp], oldest.get((tp, offset)))
        for group, offsets in committed.items()
        for tp, offset in sorted(offsets.items())
    ]
