"""Consumer lag of the services' groups, sampled through the run, and the wait for the drain."""

import asyncio
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from socialsvc_common.contract.access import service_inputs
from tests.harness import partitions_of

# What each service consumes (intake also keeps every downstream event for the journey view).
INPUTS = service_inputs()


@dataclass
class LagWatch:
    """Lag per service over time: (seconds from the start, records not yet committed)."""

    bootstrap: str
    groups: dict[str, str]
    start: float
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    ends: dict[TopicPartition, int] = field(default_factory=dict)
    partitions: dict[str, list[TopicPartition]] = field(default_factory=dict)

    async def sample(
        self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer
    ) -> dict[str, int]:
        self.ends = await consumer.end_offsets([p for ps in self.partitions.values() for p in ps])
        lag: dict[str, int] = {}
        for service, group in self.groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            lag[service] = sum(
                end - (committed[tp].offset if tp in committed else 0)
                for name in INPUTS[service]
                for tp in self.partitions[name]
                for end in (self.ends[tp],)
            )
        self.samples.append((time.time() - self.start, lag))
        return lag

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        """Samples until `stop` is set and then until every group is drained: no lag and no new
        records for three samples in a row."""
        names = sorted({name for names in INPUTS.values() for name in names})
        for tp in await partitions_of(self.bootstrap, names):
            self.partitions.setdefault(tp.topic, []).append(tp)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await admin.start()
        await consumer.start()
        try:
            quiet, previous = 0, dict[TopicPartition, int]()
            while True:
                lag = await self.sample(admin, consumer)
                settled = stop.is_set() and not any(lag.values()) and self.ends == previous
                quiet = quiet + 1 if settled else 0
                if quiet >= 3:
                    return
                previous = dict(self.ends)
                await asyncio.sleep(interval)
        finally:
            await consumer.stop()
            await admin.close()
