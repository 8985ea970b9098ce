"""What the archive's tests share: an archive on its own PostgreSQL database and consumer group,
the recorder running in the test's event loop, the command as a process, and raw records."""

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from socialsvc_ops.archive.reading import Kept, kept
from socialsvc_ops.archive.recorder import Recorder
from socialsvc_ops.archive.runtime import Archive, opened
from socialsvc_ops.archive.settings import ArchiveSettings
from socialsvc_ops.archive.store import Filter
from tests.harness import migrate

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True)
class ArchiveRig:
    bootstrap: str
    database_url: str
    group: str
    policy: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        found = {
            "ARCHIVE_DATABASE_URL": self.database_url,
            "ARCHIVE_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "ARCHIVE_KAFKA_GROUP_ID": self.group,
            "ARCHIVE_LOG_JSON": "true",
        }
        if self.policy is not None:
            found["ARCHIVE_RETENTION_POLICY"] = str(self.policy)
        return found

    def settings(self) -> ArchiveSettings:
        fields: dict[str, Any] = {
            "database_url": self.database_url,
            "kafka_bootstrap_servers": self.bootstrap,
            "kafka_group_id": self.group,
        }
        if self.policy is not None:
            fields["retention_policy"] = self.policy
        return ArchiveSettings(**fields)

    def ops(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`socialsvc-ops archive ARGS` as an operator runs it."""
        return subprocess.run(
            [sys.executable, "-m", "socialsvc_ops", "archive", *args],
            env={**os.environ, **self.env, "COLUMNS": "250"},
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def process(self, *topics: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """`archive run` on these topics as a process of its own."""
        args = [a for topic in topics for a in ("--topic", topic)]
        return subprocess.Popen(
            [sys.executable, "-m", "socialsvc_ops", "archive", "run", *args],
            env={**os.environ, **self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


async def new_rig(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str], policy: Path | None = None
) -> ArchiveRig:
    return ArchiveRig(
        bootstrap, await migrate("archive", fresh_postgres), unique("archive"), policy
    )


@dataclass(frozen=True)
class Recording:
    archive: Archive
    task: "asyncio.Task[None]"

    async def archived(self, wanted: Filter, count: int, within: float = 60) -> list[Kept]:
        """The events `wanted` picks once there are `count` of them (or when time is up)."""
        deadline = time.monotonic() + within
        while True:
            if self.task.done():
                await self.task  # the recorder failed: its error, not a wait
            found = await kept(self.archive, wanted)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.3)


@asynccontextmanager
async def recording(rig: ArchiveRig, topics: Sequence[str]) -> AsyncIterator[Recording]:
    """The archive with its recorder running in this event loop until the block ends."""
    settings = rig.settings()
    async with opened(settings) as archive:
        recorder = Recorder(settings, archive.sessions, archive.master, archive.policy, topics)
        task = asyncio.create_task(recorder.run())
        try:
            yield Recording(archive, task)
        finally:
            recorder.stop()
            await task


async def publish(bootstrap: str, records: Sequence[Sent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(r.topic, value=r.value, key=r.key, headers=r.headers)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, count: int, within: float = 30) -> list[Sent]:
    """The first `count` records of a topic, as they are on the broker."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[Sent] = []
    deadline = time.monotonic() + within
    try:
        while len(found) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found += [Sent(r.topic, r.key, r.value, list(r.headers)) for r in batch]
    finally:
        await consumer.stop()
    return found


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
