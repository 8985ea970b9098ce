"""The chaos suite's own logic: its bad records are really bad, its checker counts what it should,
and the crash points kill only where and when they are asked to."""

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from chaos.check import Findings, _check_messages, held_up, records_before
from chaos.inject import MALFORMED_TOPICS, Injected, _chosen, malformed
from chaos.stores import Stores
from notifications.app import NotificationsSettings
from notifications.channels import message_id
from socialsvc_common.consumer import InvalidRecord, parse
from socialsvc_common.contract.topics import Topic
from socialsvc_common.faults import ENV


def record(topic: str, value: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
    return ConsumerRecord(topic, 0, 0, 0, 0, b"k", value, None, 1, 1, headers)


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("topic", MALFORMED_TOPICS, ids=lambda t: t.name)
def test_every_kind_of_bad_record_is_refused_by_the_consumer(index: int, topic: Topic) -> None:
    _, value, headers = malformed(index, topic.name)
    with pytest.raises(InvalidRecord):
        parse(record(topic.name, value, headers), topic)


def test_about_a_tenth_of_the_events_are_chosen_for_a_second_publish() -> None:
    chosen = sum(_chosen(str(uuid.uuid4()), 0.1) for _ in range(20_000))
    assert 1_700 < chosen < 2_300


def test_findings_count_applications_once_over_all_invariants() -> None:
    findings = Findings()
    findings.lost["decision"] |= {"a", "b"}
    findings.lost["decision message"] |= {"a"}
    findings.duplicated["placement event"] |= {"c"}
    assert (findings.lost_count, findings.duplicated_count) == (2, 1)
    assert findings.summary()["lost"] == {"decision": 2, "decision message": 1}


def test_messages_missing_or_twice_in_the_sinks_are_lost_or_duplicated(tmp_path: Path) -> None:
    sender = NotificationsSettings.model_fields["email_sender"].default
    ids = {name: str(uuid.uuid4()) for name in ("a-recv", "a-dec", "b-recv", "b-dec", "b-dec2")}
    stores = Stores(
        messages=[
            (ids["a-recv"], "a", "received", "sent"),
            (ids["a-dec"], "a", "decision_eligible", "sent"),
            (ids["b-recv"], "b", "received", "sent"),
            (ids["b-dec"], "b", "decision_ineligible", "sent"),
            (ids["b-dec2"], "b", "decision_ineligible", "sent"),
        ],
        waiting={"a": 1},
    )
    sinks = tmp_path / "sinks"
    sinks.mkdir()
    sms = [ids["a-recv"], ids["b-recv"], ids["b-dec"]]
    (sinks / "sms.jsonl").write_text("".join(json.dumps({"key": k}) + "\n" for k in sms))
    mail = [message_id(ids["a-dec"], sender), message_id(ids["b-dec2"], sender)]
    (sinks / "mail.jsonl").write_text("".join(json.dumps({"message_id": m}) + "\n" for m in mail))
    findings = Findings()
    _check_messages(findings, stores, sinks, {"a", "b"})
    # a waits for a place, but no waitlist message reached it; b got its decision twice.
    assert findings.lost == {"placement message": {"a"}}
    assert findings.duplicated == {"decision message": {"b"}}


def run_with_crash_point(spec: str, passes: int) -> int:
    code = (
        "from socialsvc_common.faults import fault_point\n"
        f"for _ in range({passes}):\n"
        "    fault_point('elsewhere')\n"
        "    fault_point('here')\n"
    )
    return subprocess.run([sys.executable, "-c", code], env={ENV: spec}, check=False).returncode


def test_a_crash_point_kills_on_its_nth_pass_only() -> None:
    assert run_with_crash_point("here:3", 2) == 0
    assert run_with_crash_point("here:3", 3) == -9
    assert run_with_crash_point("", 5) == 0


def _record(topic: str, offset: int, timestamp_ms: int, event_id: uuid.UUID | None) -> Any:
    headers = [] if event_id is None else [("ce_id", str(event_id).encode())]
    return ConsumerRecord(topic, 0, offset, timestamp_ms, 0, b"k", b"v", None, 1, 1, headers)


def test_a_partition_is_held_up_only_from_when_its_consumer_reached_the_bad_record() -> None:
    good, topic = uuid.uuid4(), "eligibility.decision.made.v1"
    # Offset 4 a good event applied at t=100; 5 and 6 bad, published at t=90 and t=91 (they
    # waited behind the backlog); 7 bad, published at t=200 after the partition was idle.
    records = [
        _record(topic, 4, 80_000, good),
        _record(topic, 5, 90_000, None),
        _record(topic, 6, 91_000, None),
        _record(topic, 7, 200_000, None),
    ]
    expected = {
        ("notifications", topic, 0, offset): Injected(topic, 0, offset, "not json", at)
        for offset, at in ((5, 90_000), (6, 91_000), (7, 200_000))
    }
    letters = {
        ("notifications", topic, 0, 5): _record("dlq", 0, 100_500, None),
        ("notifications", topic, 0, 6): _record("dlq", 1, 101_250, None),
        ("notifications", topic, 0, 7): _record("dlq", 2, 200_100, None),
    }
    before = records_before(expected, records)
    assert {origin[3]: record.offset for origin, record in before.items()} == {5: 4, 6: 5, 7: 6}
    held = held_up(expected, letters, before, {"notifications": {good: 100.0}})
    assert held == pytest.approx([0.5, 0.75, 0.1])
    # Without the inbox time the wait runs from the bad record's own arrival.
    assert held_up(expected, letters, before, {})[0] == pytest.approx(10.5)
