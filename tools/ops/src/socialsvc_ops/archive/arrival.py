"""What the archive keeps of one record, decided without I/O: the audit's fields in clear when
the headers make a valid envelope, the raw record and the reason when they do not."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from socialsvc_common.contract.envelope import Envelope, InvalidEnvelope
from socialsvc_common.logs import redact_text
from socialsvc_ops.archive.crypto import Sealed, seal_record
from socialsvc_ops.archive.retention import RetentionPolicy
from socialsvc_ops.archive.tables import UNATTRIBUTED

ACTOR_HEADER = "ce_actor"
MAX_ACTOR = 200


class Record(Protocol):
    """What the archive reads of a Kafka record (aiokafka's ConsumerRecord has it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Arrival:
    """One record on its way into the archive."""

    topic: str
    event_id: str
    partition: int
    offset: int
    occurred_at: datetime
    record: Sealed
    event_type: str | None = None
    application_id: UUID | None = None
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    actor: str | None = None
    invalid_reason: str | None = None

    @property
    def key_subject(self) -> str:
        return str(self.application_id) if self.application_id else UNATTRIBUTED

    @property
    def bound_to(self) -> str:
        return f"{self.topic}/{self.event_id}"

    def row(self, data_key: bytes | None, policy: RetentionPolicy, now: datetime) -> dict[str, Any]:
        """The archived_events row; sealed with `data_key`, or not at all without one."""
        sealed = None if data_key is None else seal_record(data_key, self.record, self.bound_to)
        return {
            "topic": self.topic,
            "event_id": self.event_id,
            "kafka_partition": self.partition,
            "kafka_offset": self.offset,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "application_id": self.application_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "key_subject": self.key_subject,
            "sealed": sealed,
            "invalid_reason": self.invalid_reason,
            "archived_at": now,
            "retain_until": policy.retain_until(self.topic, self.occurred_at),
        }


def _text(headers: tuple[tuple[str, bytes | None], ...], name: str) -> str | None:
    for key, value in headers:
        if key == name and value is not None:
            try:
                return value.decode()
            except UnicodeDecodeError:
                return None
    return None


def _uuid(text: str | bytes | None) -> UUID | None:
    try:
        return UUID(text.decode() if isinstance(text, bytes) else text or "")
    except (ValueError, UnicodeDecodeError):
        return None


def arrival(record: Record) -> Arrival:
    """What to archive of `record`: never fails, whatever the record holds."""
    headers = tuple((str(k), v) for k, v in record.headers)
    raw = Sealed(record.key, record.value, headers)
    try:
        envelope = Envelope.from_headers(headers)
    except InvalidEnvelope as error:
        return _unparsed(record, raw, headers, redact_text(str(error)))
    actor = _text(headers, ACTOR_HEADER)
    return Arrival(
        topic=record.topic,
        event_id=str(envelope.event_id),
        partition=record.partition,
        offset=record.offset,
        occurred_at=envelope.time.astimezone(UTC),
        record=raw,
        event_type=envelope.type,
        application_id=envelope.application_id,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        actor=actor if actor and len(actor) <= MAX_ACTOR else None,
    )


def _unparsed(
    record: Record, raw: Sealed, headers: tuple[tuple[str, bytes | None], ...], reason: str
) -> Arrival:
    """A record that is not a valid event: kept whole and sealed, known by its CloudEvents id
    if it has a valid one (else by its position), attributed to an application only when its
    subject or key is one; nothing else of it is trusted into the clear."""
    event_id = _uuid(_text(headers, "ce_id"))
    return Arrival(
        topic=record.topic,
        event_id=str(event_id) if event_id else f"p{record.partition}@{record.offset}",
        partition=record.partition,
        offset=record.offset,
        occurred_at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        record=raw,
        application_id=_uuid(_text(headers, "ce_subject")) or _uuid(record.key),
        invalid_reason=reason,
    )
