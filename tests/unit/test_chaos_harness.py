"""The chaos suite's own logic: its bad records are really bad, its checker counts what it should,
and the crash points kill only where and when they are asked to."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from chaos import platform
from chaos.check import STALLED, Findings, _check_messages, hold_buckets, hold_facts, scrape
from chaos.inject import MALFORMED_TOPICS, _chosen, malformed
from chaos.stores import Stores
from notifications.app import NotificationsSettings
from notifications.channels import message_id
from socialsvc_common.consumer import InvalidRecord, parse
from socialsvc_common.contract.topics import Topic
from socialsvc_common.faults import ENV
from socialsvc_common.metrics import Metrics
from tests.harness import free_port, served


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


def test_a_batch_passes_a_crash_point_once_for_each_of_its_items() -> None:
    def run(spec: str, batch: int) -> int:
        code = f"from socialsvc_common.faults import fault_point\nfault_point('here', {batch})\n"
        return subprocess.run([sys.executable, "-c", code], env={ENV: spec}, check=False).returncode

    assert run("here:50", 49) == 0
    assert run("here:50", 50) == -9


def test_the_longest_hold_and_the_stalls_are_read_from_every_services_histogram() -> None:
    # Two services' own metrics, as /metrics serves them: one bad record held 0.2 s and one
    # 0.04 s in the first, one 7 s (a stall) in the second on another topic.
    first, second = Metrics("intake"), Metrics("notifications")
    first.held_up("egov.application.submitted.v1", 0.2)
    first.held_up("intake.application.received.v1", 0.04)
    facts = hold_facts(hold_buckets([first.render().decode()]))
    assert facts == {
        "dead letters timed by their consumers": 2,
        "longest a bad record held its partition up (s, at most)": 0.25,
        STALLED: 0,
    }
    second.held_up("eligibility.decision.made.v1", 7.0)
    facts = hold_facts(hold_buckets([first.render().decode(), second.render().decode()]))
    assert facts["dead letters timed by their consumers"] == 3
    assert facts["longest a bad record held its partition up (s, at most)"] == 10
    assert facts[STALLED] == 1
    second.held_up("eligibility.decision.made.v1", 45.0)
    facts = hold_facts(hold_buckets([second.render().decode()]))
    assert facts["longest a bad record held its partition up (s, at most)"] == "over 30"
    assert facts[STALLED] == 2
    assert hold_facts(hold_buckets([])) == {
        "dead letters timed by their consumers": 0,
        "longest a bad record held its partition up (s, at most)": 0.0,
        STALLED: 0,
    }


def test_a_process_left_by_an_earlier_run_is_found_and_a_stale_record_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform, "PIDS", tmp_path)
    args = [sys.executable, "-c", "import time; time.sleep(60)"]
    alive = subprocess.Popen(args)
    command = b"".join(a.encode() + b"\0" for a in args)
    try:
        # Until the child has exec'd, /proc shows the command line of this process.
        deadline = time.monotonic() + 10
        while Path(f"/proc/{alive.pid}/cmdline").read_bytes() != command:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        (tmp_path / str(alive.pid)).write_bytes(command)
        # A pid now taken by another command, and one that is gone.
        (tmp_path / str(os.getpid())).write_bytes(b"python\0-m\0intake\0")
        (tmp_path / "999999999").write_bytes(b"python\0-m\0intake\0")
        assert platform.leftovers() == [f"{alive.pid}: {' '.join(args)}"]
        assert sorted(p.name for p in tmp_path.iterdir()) == [str(alive.pid)]
    finally:
        alive.kill()
        alive.wait()
    assert platform.leftovers() == []
    assert list(tmp_path.iterdir()) == []


async def test_metrics_are_read_with_the_key_from_those_that_answer_and_the_others_named() -> None:
    metrics = Metrics("intake")
    metrics.held_up("egov.application.submitted.v1", 0.2)

    async def service(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # As the services do: /metrics only to a monitor's key.
        known = (b"authorization", b"Bearer sk_monitor") in scope["headers"]
        await send({"type": "http.response.start", "status": 200 if known else 401, "headers": []})
        await send({"type": "http.response.body", "body": metrics.render() if known else b""})

    async with served(service) as port:
        urls = {
            "intake": f"http://127.0.0.1:{port}",
            "intake-r2": f"http://127.0.0.1:{free_port()}",
        }
        texts, unread = await scrape(urls, "sk_monitor")
        refused = await scrape(urls, "sk_other")
    assert refused == ([], ["intake", "intake-r2"])
    assert unread == ["intake-r2"]
    assert hold_facts(hold_buckets(texts))["dead letters timed by their consumers"] == 1
