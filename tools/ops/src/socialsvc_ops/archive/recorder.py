"""`archive run`: reads every topic in the archive's own consumer group and keeps each record once.

A batch is one transaction: read the data keys it needs, decide each record's row in pure code,
write the rows in one statement. Offsets are committed only after the transaction, so a crash
loses nothing; what a crash makes the archive read again is dropped by (topic, event id), so it
repeats nothing. A record that is not a valid event is archived raw and never holds up its
partition. When the database fails, the batch is read again after a pause.
"""

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.contract.access import ARCHIVE
from socialsvc_common.contract.topics import SUBJECT_ERASED
from socialsvc_common.db import transaction
from socialsvc_common.faults import fault_point
from socialsvc_common.kafka import MAX_POLL_INTERVAL_MS, SESSION_TIMEOUT_MS
from socialsvc_common.kafka_security import client_security
from socialsvc_common.logs import redact_text
from socialsvc_ops.archive import store
from socialsvc_ops.archive.arrival import Arrival, arrival
from socialsvc_ops.archive.crypto import MasterKey
from socialsvc_ops.archive.keys import forget_applications, keys_for
from socialsvc_ops.archive.retention import RetentionPolicy
from socialsvc_ops.archive.settings import ArchiveSettings

POLL_MS = 500
MAX_BACKOFF_SECONDS = 10.0
REPORT_EVERY_SECONDS = 30.0
log = structlog.get_logger("archive")


async def archive_batch(
    sessions: async_sessionmaker[AsyncSession],
    master: MasterKey,
    policy: RetentionPolicy,
    records: Sequence["ConsumerRecord[bytes, bytes]"],
) -> int:
    """Archives the records in one transaction; returns how many were new."""
    now = datetime.now(UTC)
    arrivals = [arrival(record) for record in records]
    async with transaction(sessions) as session:
        keys = await keys_for(session, master, {a.key_subject for a in arrivals}, now)
        rows = [a.row(keys[a.key_subject], policy, now) for a in arrivals]
        added = await store.add_events(session, rows)
        await forget_applications(session, erased(arrivals), now)
        return added


def erased(arrivals: Sequence[Arrival]) -> set[UUID]:
    """The applications whose subject's data was erased (intake.subject.erased.v1): their
    records are crypto-shredded in the same transaction that archives the erasure."""
    return {
        a.application_id
        for a in arrivals
        if a.topic == SUBJECT_ERASED.name and a.invalid_reason is None and a.application_id
    }


class Recorder:
    """The long-running consumer behind `archive run`."""

    def __init__(
        self,
        settings: ArchiveSettings,
        sessions: async_sessionmaker[AsyncSession],
        master: MasterKey,
        policy: RetentionPolicy,
        topics: Sequence[str],
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._master = master
        self._policy = policy
        self._topics = list(topics)
        self._stopping = asyncio.Event()
        self._archived = 0

    @property
    def group_id(self) -> str:
        return self._settings.kafka_group_id or ARCHIVE

    def stop(self) -> None:
        """Finish the batch in hand, commit it, then stop."""
        self._stopping.set()

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            client_id="socialsvc-archive",
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            **client_security(self._settings),
        )

    async def run(self) -> None:
        consumer = self._consumer()
        await consumer.start()
        log.info("started", service="archive", group=self.group_id, topics=len(self._topics))
        failures, reported = 0, time.monotonic()
        try:
            while not self._stopping.is_set():
                batches = await consumer.getmany(
                    timeout_ms=POLL_MS, max_records=self._settings.batch_size
                )
                if not batches:
                    continue
                if await self._keep(consumer, batches):
                    failures = 0
                else:
                    failures += 1
                    await asyncio.sleep(min(MAX_BACKOFF_SECONDS, 0.2 * 2**failures))
                if time.monotonic() - reported >= REPORT_EVERY_SECONDS:
                    log.info("archiving", archived=self._archived)
                    reported = time.monotonic()
        finally:
            await consumer.stop()
            log.info("stopped", archived=self._archived)

    async def _keep(
        self,
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, list["ConsumerRecord[bytes, bytes]"]],
    ) -> bool:
        records = [record for batch in batches.values() for record in batch]
        try:
            self._archived += await archive_batch(
                self._sessions, self._master, self._policy, records
            )
        except Exception as error:
            log.warning("batch not archived; reading it again", error=redact_text(repr(error)))
            held = consumer.assignment()  # a rebalance may have taken some meanwhile
            for tp, batch in batches.items():
                if tp in held:
                    consumer.seek(tp, batch[0].offset)
            return False
        fault_point("archive.after_commit")
        try:
            await consumer.commit({tp: batch[-1].offset + 1 for tp, batch in batches.items()})
        except KafkaError as error:
            # A rebalance took the partitions: their new reader reads the batch again and the
            # archive drops it as already kept.
            log.warning("offsets not committed", error=repr(error))
        return True
