"""One Kafka record as the consumer runtime sees it: checked against the contract, named in the
log lines about it, and marked with its provenance when it is dead-lettered."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from pydantic import BaseModel, ValidationError

from socialsvc_common.contract.envelope import Envelope, InvalidEnvelope
from socialsvc_common.contract.payloads import DeadLetter
from socialsvc_common.contract.topics import Topic

DLQ_PREFIX = "dlq_"


class InvalidRecord(Exception):
    """The record's headers or payload do not match the contract."""


def context_of(
    record: ConsumerRecord[bytes, bytes], envelope: Envelope | None = None
) -> dict[str, Any]:
    """What every log line about a record is bound to: where it came from and what it is about."""
    where: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }
    if envelope is not None:
        where["event_id"] = str(envelope.event_id)
        where["application_id"] = str(envelope.application_id)
    return where


def parse(record: ConsumerRecord[bytes, bytes], topic: Topic) -> tuple[Envelope, BaseModel]:
    """The envelope and validated payload of a record, or InvalidRecord saying what is wrong."""
    try:
        envelope = Envelope.from_headers(record.headers)
    except InvalidEnvelope as error:
        raise InvalidRecord(str(error)) from error
    if record.value is None:
        raise InvalidRecord("the record has no value")
    try:
        payload = topic.payload.model_validate_json(record.value)
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidRecord(f"payload does not match {topic.payload.__name__}: {fields}") from error
    return envelope, payload


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The `dlq_*` headers that say where a dead letter came from and why it failed."""
    return [
        (
            DLQ_PREFIX + key,
            str(value.isoformat() if isinstance(value, datetime) else value).encode(),
        )
        for key, value in letter.model_dump().items()
    ]


def read_dead_letter(headers: Sequence[tuple[str, bytes]]) -> DeadLetter:
    """The provenance of a dead-lettered record, from its `dlq_*` headers."""
    found = {k.removeprefix(DLQ_PREFIX): v.decode() for k, v in headers if k.startswith(DLQ_PREFIX)}
    return DeadLetter.model_validate(found)
