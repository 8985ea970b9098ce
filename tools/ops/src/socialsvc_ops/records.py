"""Reading the platform's topics as an onlooker: no consumer group, nothing committed.

Every command reads through here, so none of them can move a service's offsets.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from socialsvc_common.contract.envelope import Envelope, InvalidEnvelope
from socialsvc_common.kafka import assign_once
from socialsvc_common.logs import REDACTED, redact_text
from socialsvc_common.public_stream import coarse_since
from socialsvc_ops.login import kafka_login
from socialsvc_ops.mask import mask

POLL_MS = 500
FOLLOW_BATCH = 500


@dataclass(frozen=True, slots=True)
class Seen:
    """One record as it was on the broker, with what the envelope says of it."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, record: "ConsumerRecord[bytes, bytes]") -> "Seen":
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp,
            record.key,
            record.value,
            tuple(record.headers),
        )

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name and value is not None:
                return value.decode(errors="replace")
        return None

    @property
    def envelope(self) -> Envelope | None:
        try:
            return Envelope.from_headers(self.headers)
        except InvalidEnvelope:
            return None

    @property
    def application_id(self) -> str | None:
        return self.header("ce_subject") or (
            self.key.decode(errors="replace") if self.key else None
        )

    @property
    def event_type(self) -> str:
        return self.header("ce_type") or self.topic

    @property
    def time(self) -> datetime:
        """When the event happened (ce_time), else when the broker stored it."""
        envelope = self.envelope
        if envelope is not None:
            return envelope.time.astimezone(UTC)
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def payload(self) -> dict[str, Any] | None:
        """The JSON value, or None when it is not a JSON object."""
        try:
            value = json.loads(self.value or b"")
        except (ValueError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def masked_payload(self) -> dict[str, Any] | str:
        """The payload with personal data replaced by [REDACTED]; a value that is not a JSON
        object is never shown, since its text could be anything."""
        payload = self.payload()
        if payload is None:
            return f"{REDACTED} ({len(self.value or b'')} bytes, not a JSON object)"
        masked: dict[str, Any] = mask(payload)
        return masked

    def district(self) -> str | None:
        payload = self.payload() or {}
        applicant = payload.get("applicant")
        found = payload.get("district") or (
            applicant.get("district") if isinstance(applicant, dict) else None
        )
        return str(found) if found is not None else None

    def summary(self) -> dict[str, Any]:
        """Where the record is and what it is, masked, for printing as JSON."""
        return {
            "time": self.time.isoformat(),
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "type": self.event_type,
            "application_id": self.application_id,
            "source": self.header("ce_source"),
            "headers": {
                k: redact_text(v.decode(errors="replace"))
                for k, v in self.headers
                if v is not None and not k.startswith("ce_")
            },
            "payload": self.masked_payload(),
        }


def onlooker(bootstrap: str) -> AIOKafkaConsumer:
    """A consumer in no group: it reads where it is told and commits nothing."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        client_id="socialsvc-ops",
        **kafka_login(),
    )


async def partitions(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    """The partitions of the topics that exist on the broker (the others are skipped)."""
    names = list(topics)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="socialsvc-ops", **kafka_login()
    )
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(names)}
    finally:
        await admin.close()
    return [
        TopicPartition(name, p["partition"])
        for name in names
        if name in described and not described[name]["error_code"]
        for p in sorted(described[name]["partitions"], key=lambda p: int(p["partition"]))
    ]


async def start_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], since: datetime | None
) -> dict[TopicPartition, int]:
    """The first offset at or after `since` per partition (the log start without `since`); on a
    public application topic, whose record times are cut to the hour, at the start of its hour.
    The consumer is assigned the partitions first (`assign_once`), and reads with them."""
    assign_once(consumer, tps)
    if since is None:
        return dict(await consumer.beginning_offsets(tps))
    ends = await consumer.end_offsets(tps)
    targets = {tp: int(coarse_since(tp.topic, since).timestamp() * 1000) for tp in tps}
    found = await consumer.offsets_for_times(targets)
    return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in tps}


async def read_range(
    consumer: AIOKafkaConsumer,
    starts: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int] | None = None,
) -> list[Seen]:
    """Every record from `starts` up to the partitions' end offsets as of now (or `ends`)."""
    tps = list(starts)
    if not tps:
        return []
    assign_once(consumer, tps)
    stop = dict(ends) if ends is not None else dict(await consumer.end_offsets(tps))
    for tp, offset in starts.items():
        consumer.seek(tp, offset)
    found: list[Seen] = []
    pending = {tp for tp in tps if starts[tp] < stop[tp]}
    while pending:
        for tp, batch in (await consumer.getmany(*pending, timeout_ms=POLL_MS)).items():
            found += [Seen.of(r) for r in batch if r.offset < stop[tp]]
        pending = {tp for tp in pending if await consumer.position(tp) < stop[tp]}
    return found


async def follow(
    consumer: AIOKafkaConsumer, starts: Mapping[TopicPartition, int]
) -> AsyncIterator[Seen]:
    """Every record from `starts` on, as it arrives, until the caller stops iterating."""
    assign_once(consumer, list(starts))
    for tp, offset in starts.items():
        consumer.seek(tp, offset)
    while True:
        batches = await consumer.getmany(timeout_ms=POLL_MS, max_records=FOLLOW_BATCH)
        for batch in batches.values():
            for record in batch:
                yield Seen.of(record)
        # A backlog arrives in full batches without waiting on the network: let the rest of the
        # program (the page's requests) run between them.
        await asyncio.sleep(0)
