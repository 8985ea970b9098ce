"""Intake's front door as a client meets it: problem+json, idempotency, one open application, and
the e-government topic treated exactly like HTTP."""

import asyncio
import time
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from intake.app import EGOV_NAMESPACE
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.payloads import ApplicationForm

from .applicants import mixed_applications
from .conftest import Platform

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(shared_platform: Platform) -> Platform:
    """The module's tests share one platform: each looks only at applications of its own."""
    return shared_platform


PROBLEM = "application/problem+json"


def form(seed: int) -> dict[str, Any]:
    return mixed_applications(1, seed=seed)[0]


async def test_bad_input_gets_422_problem_json_naming_each_field(platform: Platform) -> None:
    bad = form(1)
    bad["applicant"] |= {"fin": "abc", "mobile_phone": "+99312345", "birth_date": "2999-01-01"}
    bad["consent_to_processing"] = False
    async with platform.client("intake") as client:
        response = await client.post("/applications", json=bad)
        missing = await client.post("/applications", json={"applicant": {}})
        unknown = await client.get(f"/applications/{uuid.uuid4()}")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {
        "applicant.fin",
        "applicant.mobile_phone",
        "applicant.birth_date",
        "consent_to_processing",
    }
    assert "abc" not in response.text  # input values are never echoed
    assert {e["field"] for e in missing.json()["errors"]} >= {
        "service_requested",
        "applicant.fin",
        "consent_to_processing",
    }
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM


async def test_idempotency_key_and_one_open_application_per_person_and_service(
    platform: Platform,
) -> None:
    first = form(2)
    async with platform.client("intake") as client:
        created = await client.post("/applications", json=first, headers={"Idempotency-Key": "k-1"})
        again = await client.post("/applications", json=first, headers={"Idempotency-Key": "k-1"})
        reused = await client.post(
            "/applications", json=form(3), headers={"Idempotency-Key": "k-1"}
        )
        duplicate = await client.post("/applications", json=first)
        other_service = await client.post(
            "/applications", json=first | {"service_requested": "residential"}
        )
    assert created.status_code == again.status_code == 202
    assert again.json() == created.json()
    assert created.headers["location"] == created.json()["status_url"]
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("idempotency-key-reused")
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == PROBLEM
    assert duplicate.json()["open_application_id"] == created.json()["application_id"]
    assert other_service.status_code == 202


async def test_concurrent_submissions_of_one_person_make_one_application(
    platform: Platform,
) -> None:
    same = form(4)
    async with platform.client("intake") as client:
        answers = await asyncio.gather(*(client.post("/applications", json=same) for _ in range(8)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [202] + [409] * 7


async def test_an_egov_submission_is_taken_in_once_like_http(
    platform: Platform, bootstrap: str
) -> None:
    submission = ApplicationForm.model_validate(form(5))
    event = new_event(
        topics.EGOV_APPLICATION_SUBMITTED, submission, producer="egov", application_id=uuid.uuid4()
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for _ in range(2):  # the portal retries: one application, not two
            await producer.send_and_wait(
                topics.EGOV_APPLICATION_SUBMITTED.name,
                event.value(),
                key=event.key,
                headers=event.envelope.to_headers(),
            )
    finally:
        await producer.stop()
    application_id = str(uuid.uuid5(EGOV_NAMESPACE, str(event.envelope.event_id)))
    async with platform.client("intake") as client:
        deadline = time.monotonic() + 60
        journey: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = await client.get(f"/applications/{application_id}")
            journey = response.json()
            if response.status_code == 200 and journey["status"] != "received":
                break
            await asyncio.sleep(0.5)
        again = await client.post("/applications", json=form(5))
    assert journey["channel"] == "egov"
    assert journey["status"] != "received", journey
    received = [s for s in journey["journey"] if s["type"] == "intake.application.received"]
    assert len(received) == 1
    assert again.status_code == 409
