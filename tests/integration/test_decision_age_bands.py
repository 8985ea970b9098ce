"""Eligibility's decision on the real broker and PostgreSQL: the private decision names the
person's age band and every target group; its public twin names the band but no sensitive group,
and its times (in the payload, ce_time and the Kafka record time) are cut to the hour.

The application is read back from a topic of the test's own and handed to eligibility's consumer
as a record of application.received, so no platform sharing the broker decides it too; it does
not say how much help the person needs, so the decision asks for that and no platform places it."""

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from eligibility.app import EligibilitySettings, build_app
from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.pseudonym import public_application_id
from socialsvc_common.service import Runtime
from tests.harness import migrate, records_since

pytestmark = pytest.mark.integration
HOUR_MS = 3_600_000


def application(born: date) -> p.ApplicationReceived:
    applicant = p.Applicant(
        fin="7QX9K2M",
        first_name="Aysel",
        last_name="Quliyeva",
        birth_date=born,
        mobile_phone="+994501234567",
        district="Xətai",
    )
    return p.ApplicationReceived(
        application_id=uuid4(),
        submitted_at=datetime.now(UTC),
        channel="social_worker",
        service_requested=p.ServiceRequested.RESIDENTIAL,
        applicant=applicant,
        circumstances=p.Circumstances(trafficking_victim=True),
        person_ref=uuid4().hex,
    )


def ours(records: list[Any], key: UUID) -> list[Any]:
    return [record for record in records if record.key == str(key).encode()]


async def test_a_decision_names_the_age_band_and_its_public_twin_no_victim_and_no_moment(
    bootstrap: str, fresh_postgres: str, unique: Callable[[str], str]
) -> None:
    settings = EligibilitySettings(
        database_url=await migrate("eligibility", fresh_postgres),
        kafka_bootstrap_servers=[bootstrap],
    )
    runtime: Runtime = build_app(settings).state.runtime
    own = topics.Topic(
        f"test.{unique('decisions')}.received.v1", p.ApplicationReceived, "in", partitions=1
    )
    await ensure_topics([bootstrap], [own])
    # Forty this year (in Baku): 39 or 40 on any day of it, in the 35-64 band.
    born = date(datetime.now(ZoneInfo("Asia/Baku")).year - 40, 1, 1)
    received = application(born)
    event = new_event(
        topics.APPLICATION_RECEIVED,
        received,
        producer="intake",
        application_id=received.application_id,
    )
    since_ms = int(time.time() * 1000) - 1000
    try:
        await runtime.producer.deliver(
            [(own.name, event.key, event.value(), event.envelope.to_headers())]
        )
        [record] = await records_since(bootstrap, own.name, since_ms)
        as_received = dataclasses.replace(record, topic=topics.APPLICATION_RECEIVED.name)
        await runtime.consumer.process_batch([as_received])
        assert await runtime.relay.relay_once() == 2
        private = await records_since(bootstrap, topics.DECISION_MADE.name, since_ms)
        public = await records_since(bootstrap, topics.PUBLIC_APPLICATION_DECIDED.name, since_ms)
        now_ms = int(time.time() * 1000)
    finally:
        await runtime.producer.stop()
        await runtime.engine.dispose()

    [made_record] = ours(private, received.application_id)
    made = json.loads(made_record.value)
    assert made["outcome"] == "needs_information"
    assert made["groups"] == ["trafficking_victim"]
    assert made["age_band"] == "35-64"
    assert since_ms <= made_record.timestamp <= now_ms

    ref = public_application_id(received.application_id, settings.pseudonym_key_bytes)
    [twin_record] = ours(public, ref)
    twin = json.loads(twin_record.value)
    assert (twin["status"], twin["groups"], twin["age_band"]) == ("needs_information", [], "35-64")
    assert "trafficking" not in twin_record.value.decode()
    decided_at = datetime.fromisoformat(made["decided_at"])
    hour = decided_at.replace(minute=0, second=0, microsecond=0)
    assert datetime.fromisoformat(twin["decided_at"]) == hour
    ce_time = datetime.fromisoformat(dict(twin_record.headers)["ce_time"].decode())
    assert ce_time.timestamp() * 1000 % HOUR_MS == 0
    assert twin_record.timestamp == int(ce_time.timestamp() * 1000)
    assert 0 <= made_record.timestamp - twin_record.timestamp < HOUR_MS
