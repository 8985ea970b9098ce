"""The archive's encryption and what it keeps of a record, without a database or a broker."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import uuid4

import pytest

from socialsvc_common.contract.envelope import Envelope
from socialsvc_ops.archive.arrival import arrival
from socialsvc_ops.archive.crypto import MasterKey, Sealed, Unreadable, open_record, seal_record
from socialsvc_ops.archive.retention import parse_policy
from socialsvc_ops.archive.tables import UNATTRIBUTED

FIN, PHONE = "5QX7K2M", "+994551234567"
POLICY = parse_policy('default = "1 year"', "test")
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class FakeRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]


def envelope() -> Envelope:
    event = uuid4()
    return Envelope(
        event_id=event,
        type="eligibility.decision.made",
        schema_version="1.0",
        time=AT,
        source="/socialsvc/eligibility",
        application_id=uuid4(),
        correlation_id=event,
    )


def test_a_record_opens_with_its_data_key_and_binding_only() -> None:
    key = MasterKey.new_data_key()
    record = Sealed(b"key", json.dumps({"fin": FIN}).encode(), (("ce_id", b"1"), ("x", None)))
    sealed = seal_record(key, record, "topic/1")
    assert FIN.encode() not in sealed
    assert open_record(key, sealed, "topic/1") == record
    with pytest.raises(Unreadable):
        open_record(key, sealed, "topic/2")
    with pytest.raises(Unreadable):
        open_record(MasterKey.new_data_key(), sealed, "topic/1")


def test_a_data_key_unwraps_with_its_master_key_for_its_subject_only() -> None:
    master = MasterKey(b"a master key of at least thirty-two characters")
    data_key = MasterKey.new_data_key()
    wrapped = master.wrap(data_key, "subject-a")
    assert data_key not in wrapped
    assert master.unwrap(wrapped, "subject-a") == data_key
    with pytest.raises(Unreadable):
        master.unwrap(wrapped, "subject-b")
    with pytest.raises(Unreadable):
        MasterKey(b"another master key of thirty-two characters").unwrap(wrapped, "subject-a")


def test_a_valid_event_keeps_its_audit_fields_in_clear_and_the_rest_sealed() -> None:
    sent = envelope()
    headers = [*sent.to_headers(), ("ce_actor", b"social_worker:aysel")]
    value = json.dumps({"applicant": {"fin": FIN, "mobile_phone": PHONE}}).encode()
    kept = arrival(FakeRecord("eligibility.decision.made.v1", 2, 41, 0, b"k", value, headers))
    assert (kept.event_id, kept.application_id) == (str(sent.event_id), sent.application_id)
    assert (kept.event_type, kept.occurred_at, kept.actor) == (sent.type, AT, "social_worker:aysel")
    assert kept.invalid_reason is None
    data_key = MasterKey.new_data_key()
    row = kept.row(data_key, POLICY, AT)
    assert row["retain_until"] == datetime(2027, 11, 2, 9, 30, tzinfo=UTC)
    clear = json.dumps({k: v for k, v in row.items() if k != "sealed"}, default=str)
    assert FIN not in clear
    assert PHONE not in clear
    opened = open_record(data_key, row["sealed"], f"{kept.topic}/{kept.event_id}")
    assert opened == Sealed(b"k", value, tuple(headers))


def test_a_forgotten_application_keeps_its_metadata_but_nothing_sealed() -> None:
    sent = envelope()
    kept = arrival(FakeRecord("t", 0, 1, 0, None, b"{}", list(sent.to_headers())))
    assert kept.row(None, POLICY, AT)["sealed"] is None


def test_a_record_without_valid_headers_is_kept_raw_with_the_reason() -> None:
    application = uuid4()
    stamp = int(AT.timestamp() * 1000)
    headers: list[tuple[str, bytes | None]] = [("ce_id", b"not-a-uuid"), ("ce_type", FIN.encode())]
    kept = arrival(FakeRecord("t", 3, 7, stamp, str(application).encode(), b"\xff", headers))
    assert kept.event_id == "p3@7"
    assert kept.invalid_reason is not None
    assert "missing CloudEvents headers" in kept.invalid_reason
    assert (kept.application_id, kept.occurred_at, kept.event_type) == (application, AT, None)
    nameless = arrival(FakeRecord("t", 3, 8, stamp, b"\x00", None, []))
    assert nameless.key_subject == UNATTRIBUTED
