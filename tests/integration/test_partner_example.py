"""The partner guide's example (docs/examples/read_public_topic.py) reads a public topic of the
real broker with plain aiokafka: it finds an event written there, a group resumes where it
stopped, and a record that is not an event is skipped with a word, not fatal."""

import ast
import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.public_stream import PublicStream

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).parents[2] / "docs" / "examples" / "read_public_topic.py"
TOPIC = topics.PUBLIC_APPLICATION_RECEIVED.name


def run(bootstrap: str, *args: str) -> tuple[list[dict[str, Any]], str]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--bootstrap", bootstrap, "--idle-seconds", "3", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_the_example_needs_nothing_of_ours() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
        )
    }
    standard = {"argparse", "asyncio", "json", "os", "sys", "datetime", "typing"}
    assert imported <= standard | {"aiokafka"}


async def test_the_example_reads_an_event_and_a_group_resumes(
    bootstrap: str, unique: Callable[[str], str]
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=2)
    applicant = p.Applicant(
        fin="5ZK8P1Q",
        first_name="Günay",
        last_name="Quliyeva",
        birth_date=date(1950, 1, 2),
        mobile_phone="+994551112233",
        district="Xətai",
    )
    received = p.ApplicationReceived(
        application_id=uuid4(),
        submitted_at=datetime.now(UTC),
        channel="egov",
        service_requested=p.ServiceRequested.HOME_CARE,
        applicant=applicant,
        circumstances=p.Circumstances(),
    )
    stream = PublicStream("intake", b"a-test-pseudonym-key")
    event = stream.received(received)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            TOPIC, event.value(), key=event.key, headers=event.envelope.to_headers()
        )
    finally:
        await producer.stop()
    ref = str(stream.ref(received.application_id))

    events, _ = await asyncio.to_thread(run, bootstrap, "--since", since.isoformat(), TOPIC)
    ours = [e for e in events if e["application_ref"] == ref]
    assert len(ours) == 1
    assert ours[0]["type"] == "public.application.received"
    assert ours[0]["id"] == str(event.envelope.event_id)
    assert ours[0]["payload"]["status"] == "received"
    assert ours[0]["payload"]["district"] == "Xətai"

    group = unique("partner")
    first, _ = await asyncio.to_thread(run, bootstrap, "--group", group, TOPIC)
    assert ref in {e["application_ref"] for e in first}
    again, summary = await asyncio.to_thread(run, bootstrap, "--group", group, TOPIC)
    assert again == []
    assert summary.strip() == "0 events"


async def test_the_example_skips_a_record_that_is_not_an_event(
    bootstrap: str, unique: Callable[[str], str]
) -> None:
    # A topic of the test's own: a broken record on a shared public topic would stay there.
    own = topics.Topic(f"test.{unique('partner')}.public.v1", p.DeadLetter, "in", partitions=1)
    await ensure_topics([bootstrap], [own])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(own.name, b"{not json", key=b"broken")
        await producer.send_and_wait(own.name, b'{"status": "received"}', key=b"good")
    finally:
        await producer.stop()

    events, summary = await asyncio.to_thread(run, bootstrap, "--group", unique("p"), own.name)
    assert [(e["application_ref"], e["payload"]) for e in events] == [
        ("good", {"status": "received"})
    ]
    assert f"skipped {own.name} partition 0 offset 0: not a JSON event" in summary
    assert summary.strip().endswith("1 events")
