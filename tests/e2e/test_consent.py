"""Consent as a record, on the whole platform: what the person agreed to is recorded with the text's
version, language and time; a text not in force is refused over HTTP and dead-lettered from the
e-government topic; and a withdrawal stops every service, the citizen told once, nothing after."""

import asyncio
import time
import uuid
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from intake.app import EGOV_NAMESPACE
from socialsvc_common.apikeys import Role
from socialsvc_common.consumer import read_dead_letter
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.payloads import ApplicationForm
from socialsvc_common.db import libpq_url
from tests.harness import records_since, until, wait_committed

from .applicants import mixed_applications
from .conftest import Platform

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(shared_platform: Platform) -> Platform:
    """The module's tests share one platform: each looks only at applications of its own."""
    return shared_platform


PROBLEM = "application/problem+json"
WITHDRAWN = "intake.consent.withdrawn"
PURPOSES = ["eligibility_assessment", "service_provision", "contact", "statistics"]
# The topics each downstream service reads that the test publishes events of again.
INPUTS = {
    "eligibility": {topics.APPLICATION_RECEIVED.name},
    "assignment": {topics.DECISION_MADE.name},
    "notifications": {topics.APPLICATION_RECEIVED.name, topics.DECISION_MADE.name},
}


def form(seed: int, **changes: Any) -> dict[str, Any]:
    return mixed_applications(1, seed=seed)[0] | changes


def home_care_form(seed: int) -> dict[str, Any]:
    """An elderly person living alone in Xətai who needs help: eligible for home care there.
    No e-mail, so every message goes by SMS."""
    body = form(seed)
    body["applicant"] |= {"district": "Xətai", "email": None, "language": "az"}
    activities = ["washing", "eating", "moving_about", "toilet", "dressing"]
    body["circumstances"] = {"lives_alone": True, "activities_needing_help": activities}
    return body


async def publish(bootstrap: str, records: list[tuple[str, bytes, bytes, list[Any]]]) -> list[Any]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [
            await producer.send_and_wait(topic, value, key=key, headers=headers)
            for topic, key, value, headers in records
        ]
    finally:
        await producer.stop()


async def test_consent_is_recorded_with_version_language_time_and_recorder(
    platform: Platform,
) -> None:
    stated = form(11, consent_text_version="2026.1", consent_language="ru")
    unstated = form(12)
    async with platform.client("intake", Role.SOCIAL_WORKER) as client:
        first = await client.post("/applications", json=stated)
        second = await client.post("/applications", json=unstated)
        one = (await client.get(first.json()["status_url"])).json()
        two = (await client.get(second.json()["status_url"])).json()
    async with platform.client("intake", Role.SUBMITTER) as client:
        text = await client.get("/consent-texts/current")
    assert first.status_code == second.status_code == 202
    assert one["consent"] == {
        "purposes": PURPOSES,
        "text_version": "2026.1",
        "language": "ru",
        "given_at": one["submitted_at"],
        "recorded_by": "social_worker:e2e-social_worker",
        "withdrawn_at": None,
        "withdrawn_by": None,
        "withdrawal_reason": None,
    }
    # Without a stated version: the one in force, in the applicant's language.
    assert two["consent"]["text_version"] == "2026.1"
    assert two["consent"]["language"] == unstated["applicant"]["language"]
    assert text.status_code == 200
    assert text.json()["version"] == "2026.1"
    assert set(text.json()["texts"]) == {"az", "ru", "en"}


async def test_a_consent_text_not_in_force_is_refused_over_http_and_dead_lettered_from_egov(
    platform: Platform, bootstrap: str
) -> None:
    started_ms = int(time.time() * 1000) - 1000
    body = form(21)
    async with platform.client("intake") as client:
        retired = await client.post("/applications", json=body | {"consent_text_version": "2026.0"})
        unknown = await client.post("/applications", json=body | {"consent_text_version": "1999.9"})
        # Nothing was kept of the refused ones: the same person applies at once.
        accepted = await client.post("/applications", json=body)
    for refused in (retired, unknown):
        assert refused.status_code == 422
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["type"].endswith("/consent-text-refused")
        assert [e["field"] for e in refused.json()["errors"]] == ["consent_text_version"]
    assert "the form should show version 2026.1" in retired.json()["detail"]
    assert "no consent text version 1999.9" in unknown.json()["detail"]
    assert accepted.status_code == 202

    submission = ApplicationForm.model_validate(form(22, consent_text_version="1999.9"))
    event = new_event(
        topics.EGOV_APPLICATION_SUBMITTED, submission, producer="egov", application_id=uuid.uuid4()
    )
    topic = topics.EGOV_APPLICATION_SUBMITTED.name
    [sent] = await publish(
        bootstrap, [(topic, event.key, event.value(), event.envelope.to_headers())]
    )
    await wait_committed(
        bootstrap,
        platform.groups["intake"],
        {TopicPartition(topic, sent.partition): sent.offset},
        60,
    )
    letters = [
        read_dead_letter(r.headers)
        for r in await records_since(bootstrap, topics.DEAD_LETTERS["intake"].name, started_ms)
    ]
    [letter] = [x for x in letters if (x.original_topic, x.original_offset) == (topic, sent.offset)]
    assert letter.error_class == "ConsentTextRefused"
    assert "no consent text version 1999.9" in letter.error_message
    application_id = uuid.uuid5(EGOV_NAMESPACE, str(event.envelope.event_id))
    async with platform.client("intake") as client:
        assert (await client.get(f"/applications/{application_id}")).status_code == 404


CONFIRMATION = "razılığınız geri götürüldü"


def messages_to(platform: Platform, reference: str) -> list[str]:
    """The SMS texts the citizen of this application reference received, in order."""
    return [line["text"] for line in platform.sink_lines("sms.jsonl") if reference in line["text"]]


def reference(application_id: str) -> str:
    head = uuid.UUID(application_id).hex[:8].upper()
    return f"{head[:4]}-{head[4:]}"


def steps(journey: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [step for step in journey["journey"] if step["type"] == kind]


def decision_event(platform: Platform, postgres_url: str, application_id: str) -> str:
    """The event id of the decision this platform's eligibility holds for the application."""
    token = platform.groups["eligibility"].rsplit("-", 1)[1]
    database = f"{postgres_url.rsplit('/', 1)[0]}/e2e_{token}_eligibility"
    with psycopg.connect(libpq_url(database)) as connection:
        query = "SELECT event_id FROM decisions WHERE application_id = %s"
        [(event_id,)] = connection.execute(query, (application_id,)).fetchall()
    return str(event_id)


# Other runs may share the broker: their services act on this run's events too. So what this
# run's services did is read from them (their APIs, databases and sinks), not from the topics.
async def test_a_withdrawal_stops_every_service_and_is_confirmed_once(
    platform: Platform, bootstrap: str, postgres_url: str
) -> None:
    started_ms = int(time.time() * 1000) - 1000
    applicant = home_care_form(31)
    async with platform.client("intake", Role.SOCIAL_WORKER) as intake:
        submitted = await intake.post("/applications", json=applicant)
    application_id, url = submitted.json()["application_id"], submitted.json()["status_url"]
    ref = reference(application_id)
    assignment = platform.client("assignment", Role.OPERATOR)

    async def placements() -> list[dict[str, Any]]:
        found = await assignment.get("/placements", params={"application_id": application_id})
        return list(found.json())

    async def placed_and_told() -> bool:
        return bool(await placements()) and len(messages_to(platform, ref)) >= 3

    assert await until(placed_and_told), messages_to(platform, ref)
    withdrawal = f"{url}/consent/withdrawal"
    body = {"reason": "citizen_request"}
    key = {"Idempotency-Key": f"withdraw-{application_id}"}
    async with platform.client("intake", Role.SOCIAL_WORKER) as intake:
        first = await intake.post(withdrawal, json=body, headers=key)
        repeated = await intake.post(withdrawal, json=body, headers=key)
        again = await intake.post(withdrawal, json=body)
        nobody = await intake.post(f"/applications/{uuid.uuid4()}/consent/withdrawal", json=body)
    async with platform.client("intake", Role.SUBMITTER) as submitter:
        forbidden = await submitter.post(withdrawal, json=body)
    assert first.status_code == repeated.status_code == 202, first.text
    assert first.json()["status"] == "withdrawn"
    assert repeated.json() == first.json()
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["type"].endswith("/consent-already-withdrawn")
    assert nobody.status_code == 404
    assert forbidden.status_code == 403

    async def confirmed() -> bool:
        texts = messages_to(platform, ref)
        return bool(texts) and CONFIRMATION in texts[-1] and not (await placements())[0]["active"]

    assert await until(confirmed), messages_to(platform, ref)
    texts = messages_to(platform, ref)
    assert sum(CONFIRMATION in text for text in texts) == 1
    [placement] = await placements()
    assert (placement["status"], placement["release_reason"]) == ("withdrawn", "consent_withdrawn")
    async with platform.client("intake", Role.OPERATOR) as intake:

        async def journey_with_release() -> dict[str, Any] | None:
            # Intake's journey hears of the release from assignment's topic, a moment later.
            found: dict[str, Any] = (await intake.get(url)).json()
            return found if steps(found, "assignment.placement.released") else None

        journey = await until(journey_with_release)
    assert journey, "intake's journey never heard of the release"
    assert journey["status"] == "withdrawn"
    assert journey["consent"]["withdrawn_at"] == first.json()["withdrawn_at"]
    assert journey["consent"]["withdrawn_by"] == "social_worker:e2e-social_worker"
    assert journey["consent"]["withdrawal_reason"] == "citizen_request"
    [step] = steps(journey, WITHDRAWN)
    assert step["summary"] == {"reason": "citizen_request", "text_version": "2026.1"}
    assert step["actor"] == {"role": "social_worker", "name": "e2e-social_worker"}
    released = [s["summary"] for s in steps(journey, "assignment.placement.released")]
    assert [summary["reason"] for summary in released] == ["consent_withdrawn"]
    assert released[0]["placement_id"] == placement["id"]
    # Assignment released the place because of the withdrawal: by itself, naming nobody.
    assert {s["actor"] for s in steps(journey, "assignment.placement.released")} == {None}

    withdrawals = [
        r
        for r in await records_since(bootstrap, topics.CONSENT_WITHDRAWN.name, started_ms)
        if r.key.decode() == application_id
    ]
    assert len(withdrawals) == 1
    person = applicant["applicant"]
    for personal in (person["fin"], person["mobile_phone"], person["last_name"]):
        assert personal.encode() not in withdrawals[0].value

    decided = decision_event(platform, postgres_url, application_id)
    await publish_again(platform, bootstrap, application_id, decided, started_ms)
    # Nothing acted on them: no new decision, no new placement, no message after the confirmation.
    assert decision_event(platform, postgres_url, application_id) == decided
    assert await placements() == [placement]
    assert messages_to(platform, ref) == texts
    await assignment.aclose()


async def publish_again(
    platform: Platform, bootstrap: str, application_id: str, decided: str, started_ms: int
) -> None:
    """The application's received event and its decision published again as new events (new
    ids), and read by this run's eligibility, assignment and notifications."""

    async def of_application(topic: str) -> list[Any]:
        records = await records_since(bootstrap, topic, started_ms)
        return [r for r in records if r.key.decode() == application_id]

    def event_id(record: Any) -> str:
        return str(dict(record.headers)["ce_id"].decode())

    def renamed(record: Any) -> tuple[str, bytes, bytes, list[Any]]:
        headers = [
            (name, str(uuid.uuid4()).encode() if name == "ce_id" else value)
            for name, value in record.headers
        ]
        return record.topic, record.key, record.value, headers

    [received] = await of_application(topics.APPLICATION_RECEIVED.name)
    [decision] = [
        r for r in await of_application(topics.DECISION_MADE.name) if event_id(r) == decided
    ]
    sent: list[RecordMetadata] = await publish(bootstrap, [renamed(received), renamed(decision)])
    where = {TopicPartition(m.topic, m.partition): m.offset for m in sent}
    for service in ("eligibility", "assignment", "notifications"):
        reads = {tp: offset for tp, offset in where.items() if tp.topic in INPUTS[service]}
        await wait_committed(bootstrap, platform.groups[service], reads, 60)
    # Give the dispatcher the time it takes to send anything it might have stored.
    await asyncio.sleep(3)
