"""Reading the broker as the checker needs it: every record of some topics, and each consumer
group's lag behind the end of its input topics."""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from socialsvc_common.contract import topics
from socialsvc_common.contract.access import service_inputs
from tests.harness import SERVICES, ends_of

DESCRIBE_ATTEMPTS = 10
# What each service's consumer group reads (the groups are named after the services), of the
# services the suite runs: a read model's group (statistics) would never catch up.
INPUTS = {service: names for service, names in service_inputs().items() if service in SERVICES}


@dataclass(frozen=True)
class Broker:
    """Where the suite reads and writes Kafka, and as whom: the bootstrap servers and, on a secure
    cluster, the administrator's TLS and SASL settings as aiokafka's clients take them."""

    bootstrap: str
    security: Mapping[str, Any] = field(default_factory=dict)

    def clients(self) -> dict[str, Any]:
        """The keyword arguments of an aiokafka client of this broker."""
        return {"bootstrap_servers": self.bootstrap, **self.security}


def header(record: Any, name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            try:
                return str(value.decode())
            except (UnicodeDecodeError, AttributeError):
                return None
    return None


async def partitions_of(broker: Broker, names: Sequence[str]) -> list[TopicPartition]:
    """Every partition of these topics; asks again while the broker answers for some topic with
    an error or no partitions (a node just back), as a short answer would hide records."""
    for _ in range(DESCRIBE_ATTEMPTS):
        admin = AIOKafkaAdminClient(**broker.clients())
        await admin.start()
        try:
            described = await admin.describe_topics(list(names))
        finally:
            await admin.close()
        if all(
            not t["error_code"] and len(t["partitions"]) == topics.by_name(t["topic"]).partitions
            for t in described
        ):
            return [
                TopicPartition(t["topic"], p["partition"])
                for t in described
                for p in t["partitions"]
            ]
        await asyncio.sleep(1)
    raise RuntimeError(f"the broker did not describe {list(names)}: {described}")


async def end_offsets(broker: Broker, names: Sequence[str]) -> dict[TopicPartition, int]:
    return await ends_of(broker.bootstrap, await partitions_of(broker, names), **broker.security)


async def all_records(broker: Broker, names: Sequence[str]) -> list[Any]:
    """Every record now on these topics, from the beginning to the current end."""
    partitions = await partitions_of(broker, names)
    consumer = AIOKafkaConsumer(
        **broker.clients(), enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        while True:
            batches = (await consumer.getmany(timeout_ms=1000, max_records=5000)).values()
            fetched = [record for batch in batches for record in batch]
            records += fetched
            if fetched:
                continue
            # The ends are read again whenever a fetch comes back empty: read once at the start,
            # right after a node came back, they were seen to be short.
            ends = await consumer.end_offsets(partitions)
            if all([await consumer.position(tp) >= ends[tp] for tp in partitions]):
                return records
    finally:
        await consumer.stop()


async def committed(broker: Broker, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(**broker.clients())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def lag(broker: Broker) -> dict[str, int]:
    """Records each service's group has not yet committed past, summed over its partitions."""
    found: dict[str, int] = {}
    for group, names in INPUTS.items():
        ends = await end_offsets(broker, names)
        done = await committed(broker, group)
        found[group] = sum(max(0, end - max(done.get(tp, 0), 0)) for tp, end in ends.items())
    return found
