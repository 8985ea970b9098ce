"""The archive's guarantees on scratch topics: a malformed record is kept raw without holding up
its partition, retention is pruned by the policy, and a crash between the database commit and
the offset commit loses nothing and repeats nothing."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.topics import Topic
from socialsvc_common.db import libpq_url
from socialsvc_ops.archive.store import Filter
from tests.harness import last_offsets, wait_committed
from tests.integration.archive_rig import (
    ArchiveRig,
    Sent,
    json_lines,
    new_rig,
    publish,
    recording,
)

pytestmark = pytest.mark.integration
FIN, PHONE = "5QX7K2M", "+994551234567"


async def scratch(bootstrap: str, name: str, partitions: int = 1) -> Topic:
    topic = Topic(f"test.{name}.v1", p.PlacementReleased, "archive test", partitions=partitions)
    await ensure_topics([bootstrap], [topic])
    return topic


def released(topic: Topic, at: datetime | None = None) -> Sent:
    application = uuid4()
    payload = p.PlacementReleased(
        application_id=application,
        placement_id=uuid4(),
        provider_id="hc-archive-test",
        reason="moved",
        released_at=at or datetime.now(UTC),
    )
    event = new_event(topic, payload, producer="test", application_id=application, at=at)
    return Sent(topic.name, event.key, event.value(), event.envelope.to_headers())


def count_rows(rig: ArchiveRig, where: str = "TRUE") -> int:
    with psycopg.connect(libpq_url(rig.database_url)) as connection:
        found = connection.execute(f"SELECT count(*) FROM archived_events WHERE {where}")  # noqa: S608
        return int(found.fetchone()[0])  # type: ignore[index]


async def test_a_malformed_record_is_kept_raw_and_holds_nothing_up(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    rig = await new_rig(bootstrap, fresh_postgres, unique)
    topic = await scratch(bootstrap, unique("archivemalformed"))
    application = uuid4()
    form = json.dumps({"applicant": {"fin": FIN, "mobile_phone": PHONE}}).encode()
    malformed = Sent(topic.name, str(application).encode(), form, [("ce_type", b"x")])
    await publish(bootstrap, [released(topic), malformed, released(topic)])
    async with recording(rig, [topic.name]) as running:
        found = await running.archived(Filter(types=frozenset({topic.name})), 3)
    assert len(found) == 3
    [raw] = [k for k in found if k.invalid_reason is not None]
    assert raw.invalid_reason is not None
    assert "missing CloudEvents headers" in raw.invalid_reason
    assert (raw.event_id, raw.application_id, raw.event_type) == ("p0@1", application, None)
    assert raw.record is not None
    assert raw.record.value == form
    assert sorted(k.offset for k in found if k is not raw) == [0, 2]
    with psycopg.connect(libpq_url(rig.database_url)) as connection:
        text = str(
            connection.execute("SELECT array_agg(a::text) FROM archived_events a").fetchone()
        )
    assert FIN not in text
    assert PHONE not in text


async def test_prune_deletes_what_the_policy_no_longer_keeps(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    short = await scratch(bootstrap, unique("archiveshort"))
    long = await scratch(bootstrap, unique("archivelong"))
    policy = tmp_path / "retention.toml"
    policy.write_text(
        f'default = "10 years"\n[[family]]\nname = "short"\nprefixes = ["{short.name}"]\n'
        'keep = "1 day"\n',
        encoding="utf-8",
    )
    rig = await new_rig(bootstrap, fresh_postgres, unique, policy)
    old = datetime.now(UTC) - timedelta(days=3)
    await publish(
        bootstrap, [released(short, old), released(short), released(long, old), released(long)]
    )
    async with recording(rig, [short.name, long.name]) as running:
        await running.archived(Filter(), 4)
    done = rig.ops("prune", "--batch", "1")
    assert "pruned 1 events past their retention, 1 unused data keys" in done.stderr
    assert count_rows(rig) == 3
    assert (
        count_rows(rig, f"topic = '{short.name}' AND occurred_at < now() - interval '1 day'") == 0
    )


async def test_a_crash_after_the_commit_loses_and_repeats_nothing(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    rig = await new_rig(bootstrap, fresh_postgres, unique)
    topic = await scratch(bootstrap, unique("archivecrash"), partitions=3)
    records = [released(topic) for _ in range(300)]
    await publish(bootstrap, records)
    crash = {"ARCHIVE_BATCH_SIZE": "20", "SOCIALSVC_FAULT_KILL_AT": "archive.after_commit:3"}
    first = rig.process(topic.name, env=crash)
    try:
        first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == -9, "killed between its third database commit and offset commit"
    kept_before = count_rows(rig)
    assert 0 < kept_before < 300

    second = rig.process(topic.name, env={"ARCHIVE_BATCH_SIZE": "20"})
    try:
        last = await last_offsets(bootstrap, [topic.name])
        await wait_committed(bootstrap, rig.group, last, seconds=120)
    finally:
        second.terminate()
        output, _ = second.communicate(timeout=60)
    assert count_rows(rig) == 300
    assert count_rows(rig, "invalid_reason IS NULL AND sealed IS NOT NULL") == 300
    stopped = [line for line in json_lines(output) if line["event"] == "stopped"]
    assert stopped, output
    # The batch committed before the crash was read again and dropped: nothing archived twice.
    assert stopped[0]["archived"] == 300 - kept_before
