"""Properties of event parsing: whatever bytes and headers arrive, parsing ends in an envelope and
payload or in a reason, never in an exception that escapes; and the consumer turns that reason
into a dead letter carrying the record unchanged."""

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage
from faststream.kafka.parser import AioKafkaParser
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from socialsvc_common.consumer import (
    MAX_ERROR_MESSAGE,
    EventConsumer,
    InvalidRecord,
    parse,
    read_dead_letter,
)
from socialsvc_common.contract.envelope import Envelope, InvalidEnvelope
from socialsvc_common.contract.topics import DEAD_LETTERS, REGISTRY, Topic
from socialsvc_common.kafka import Record, tolerant_headers
from socialsvc_common.logs import redact_text

CE_NAMES = [
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "ce_subject",
    "ce_correlationid",
    "ce_causationid",
    "ce_schemaversion",
    "ce_specversion",
    "content-type",
]
VALID = {
    "ce_id": str(uuid.uuid4()).encode(),
    "ce_type": b"intake.application.received",
    "ce_source": b"/socialsvc/intake",
    "ce_time": b"2026-11-22T10:00:00Z",
    "ce_subject": str(uuid.uuid4()).encode(),
}

header_value = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.text(max_size=40).map(str.encode),
    st.sampled_from([*VALID.values(), b"\xff\xfe", b"", b"not-a-uuid", b"2026-13-45T99:99Z"]),
)
header_name = st.one_of(st.sampled_from(CE_NAMES), st.text(max_size=20))
# Valid envelope headers with some replaced, dropped or added: most records get far into parsing.
headers = st.builds(
    lambda keep, extra: [(k, v) for k, v in VALID.items() if k in keep] + extra,
    st.sets(st.sampled_from(list(VALID))),
    st.lists(st.tuples(header_name, header_value), max_size=8),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
values = st.one_of(
    st.none(),
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.just(b"[" * 5000),  # deep nesting
)
topics = st.sampled_from(REGISTRY)


@pytest.fixture(autouse=True, scope="module")
def quiet_logging() -> Iterator[None]:
    """The consumer logs each dead letter; hundreds of examples need not reach a handler an
    earlier test may have left on a closed stream."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [logging.NullHandler()]
    yield
    root.handlers[:] = saved


def record(topic: Topic, headers: list[tuple[str, Any]], value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(
        topic=topic.name,
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"key",
        value=value,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=len(value or b""),
        headers=headers,
    )


@given(headers)
def test_headers_make_an_envelope_or_say_why_not(pairs: list[tuple[str, Any]]) -> None:
    try:
        envelope = Envelope.from_headers(pairs)
    except InvalidEnvelope as error:
        reason = str(error)
    else:
        reason = envelope.type
    assert reason  # an envelope, or what is wrong with the headers


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(topics, headers, values)
def test_a_record_parses_or_names_what_is_wrong(
    topic: Topic, pairs: list[tuple[str, Any]], value: bytes | None
) -> None:
    try:
        _, payload = parse(record(topic, pairs, value), topic)
    except InvalidRecord as error:
        reason = str(error)
    else:
        reason = type(payload).__name__
    assert reason  # a payload, or what is wrong with the record


@given(st.lists(st.tuples(st.text(max_size=20), header_value), max_size=8), values)
def test_faststream_reads_any_headers_and_keeps_the_record_as_it_came(
    pairs: list[tuple[str, Any]], value: bytes | None
) -> None:
    raw = record(REGISTRY[0], pairs, value)
    parser = AioKafkaParser(msg_class=KafkaMessage, regex=None)
    message = asyncio.run(tolerant_headers(raw, parser.parse_message))
    assert message.raw_message is raw


class RecordingProducer:
    """Stands in for the Kafka producer: keeps what would have been published."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def deliver(self, records: Sequence[Record], **_: Any) -> None:
        for topic, key, value, headers in records:
            self.sent.append((topic, {"key": key, "value": value, "headers": list(headers)}))


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(topics, headers, values)
def test_the_consumer_dead_letters_an_unparsable_record_unchanged_with_the_reason(
    topic: Topic, pairs: list[tuple[str, Any]], value: bytes | None
) -> None:
    bad = record(topic, pairs, value)
    try:
        parse(bad, topic)
    except InvalidRecord as error:
        reason = str(error)
    else:
        assume(False)
    producer = RecordingProducer()
    consumer = EventConsumer("intake", None, producer, DEAD_LETTERS["intake"])  # type: ignore[arg-type]
    consumer.handle(topic)(lambda *_: asyncio.sleep(0))  # type: ignore[arg-type]
    before = datetime.now(UTC)
    asyncio.run(consumer.process(bad))
    [(dead_letter_topic, sent)] = producer.sent
    assert dead_letter_topic == DEAD_LETTERS["intake"].name
    assert (sent["key"], sent["value"]) == (bad.key, bad.value)
    assert sent["headers"][: len(pairs)] == pairs
    letter = read_dead_letter(sent["headers"][len(pairs) :])
    assert letter.error_class == "InvalidRecord"
    assert letter.original_topic == topic.name
    assert letter.original_offset == 7
    assert letter.error_message == redact_text(reason)[:MAX_ERROR_MESSAGE]
    assert letter.failed_at >= before
