from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord

from socialsvc_common.consumer import InvalidRecord, dead_letter_headers, parse, read_dead_letter
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Envelope, InvalidEnvelope, new_event

RELEASED = p.PlacementReleased(
    application_id=uuid4(),
    placement_id=uuid4(),
    provider_id="hc-xetai",
    reason="moved",
    released_at=datetime.now(UTC),
)


def record(value: bytes, headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topics.PLACEMENT_RELEASED.name, 2, 41, 0, 0, b"key", value, None, len(value), 0, headers
    )


def test_the_envelope_travels_as_cloudevents_headers_and_back() -> None:
    cause = new_event(
        topics.PLACEMENT_RELEASED,
        RELEASED,
        producer="assignment",
        application_id=RELEASED.application_id,
    )
    event = new_event(
        topics.PLACEMENT_RELEASED,
        RELEASED,
        producer="assignment",
        application_id=RELEASED.application_id,
        cause=cause.envelope,
    )
    headers = dict(event.envelope.to_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"assignment.placement.released"
    assert headers["ce_source"] == b"/socialsvc/assignment"
    assert headers["ce_subject"] == str(RELEASED.application_id).encode()
    assert headers["content-type"] == b"application/json"
    back = Envelope.from_headers(event.envelope.to_headers())
    assert back == event.envelope
    assert back.correlation_id == cause.envelope.correlation_id == cause.envelope.event_id
    assert back.causation_id == cause.envelope.event_id


def test_an_event_must_carry_its_topics_payload() -> None:
    with pytest.raises(TypeError, match="carries PlacementMade"):
        new_event(topics.PLACEMENT_MADE, RELEASED, producer="x", application_id=uuid4())


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([], "missing CloudEvents headers: ce_id, ce_type, ce_source, ce_time, ce_subject"),
        (
            [
                ("ce_id", b"x"),
                ("ce_type", b"t"),
                ("ce_source", b"s"),
                ("ce_time", b"now"),
                ("ce_subject", b"1"),
            ],
            "event_id",
        ),
        ([("ce_id", b"\xff")], "not UTF-8"),
    ],
)
def test_bad_headers_are_named(headers: list[tuple[str, bytes]], message: str) -> None:
    with pytest.raises(InvalidEnvelope, match=message):
        Envelope.from_headers(headers)


def test_parse_names_the_invalid_payload_field() -> None:
    event = new_event(
        topics.PLACEMENT_RELEASED, RELEASED, producer="a", application_id=RELEASED.application_id
    )
    good = record(event.value(), event.envelope.to_headers())
    envelope, payload = parse(good, topics.PLACEMENT_RELEASED)
    assert (envelope, payload) == (event.envelope, RELEASED)
    with pytest.raises(
        InvalidRecord, match="PlacementReleased: placement_id: Field required; provider_id"
    ):
        parse(
            record(
                b'{"application_id": "' + str(uuid4()).encode() + b'"}', event.envelope.to_headers()
            ),
            topics.PLACEMENT_RELEASED,
        )
    with pytest.raises(InvalidRecord, match="Invalid JSON"):
        parse(record(b"not json", event.envelope.to_headers()), topics.PLACEMENT_RELEASED)


def test_dead_letter_provenance_round_trips_through_headers() -> None:
    letter = p.DeadLetter(
        consumer="eligibility",
        original_topic="intake.application.received.v1",
        original_partition=3,
        original_offset=1234,
        error_class="InvalidRecord",
        error_message="payload does not match",
        failed_at=datetime.now(UTC),
        attempts=1,
    )
    headers = [("ce_id", b"keep"), *dead_letter_headers(letter)]
    assert read_dead_letter(headers) == letter
