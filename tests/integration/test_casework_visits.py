"""A home visit notifications asks for reaches the workers' queue through intake's consumer, on the
real broker and PostgreSQL: once per request, however often the request is delivered, and only
to the workers of the person's district."""

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from intake.app import build_app
from intake.applications import Submission, Submit, submit_all
from intake.consent_texts import load_consent_texts
from socialsvc_common.apikeys import Role
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.db import transaction
from socialsvc_common.service import Runtime
from tests.e2e.applicants import application
from tests.harness import migrate, start_group_at_end, until
from tests.integration.casework_rig import issue_keys, settings

pytestmark = pytest.mark.integration
KEY = b"k" * 32


def visit_requested(application_id: uuid.UUID, kind: str) -> Event:
    request = p.HomeVisitRequested(
        application_id=application_id,
        notification_id=uuid.uuid4(),
        district="Xətai",
        language=p.Language.AZ,
        message_kind=kind,
        text="Müraciətiniz təsdiq edildi.",
        channels_tried=[p.Channel.SMS, p.Channel.EGOV_INBOX],
        requested_at=datetime.now(UTC),
    )
    return new_event(
        topics.HOME_VISIT_REQUESTED,
        request,
        producer="notifications",
        application_id=application_id,
    )


async def publish(bootstrap: str, events: list[Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                event.topic.name,
                value=event.value(),
                key=event.key,
                headers=list(event.envelope.to_headers()),
            )
    finally:
        await producer.stop()


async def taken_in(runtime: Runtime, district: str) -> uuid.UUID:
    """An application stored as intake stores a submission, its events left unpublished (the
    test publishes nothing but the visit requests)."""
    form = application(7, random.Random(uuid.uuid4().int))
    form["applicant"]["district"] = district
    command = Submit(
        p.ApplicationForm.model_validate(form),
        "web",
        None,
        Actor(role=Role.SOCIAL_WORKER, name="clerk"),
    )
    async with transaction(runtime.sessions) as session:
        [outcome] = await submit_all(
            session, [command], pseudonym_key=KEY, consent_texts=load_consent_texts()
        )
    assert isinstance(outcome, Submission)
    return outcome.application_id


class Staff:
    def __init__(self, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    async def get(self, who: str, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        answer = await self.client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def queued(self, who: str, reason: str) -> bool:
        visits = await self.get(who, "/visits", status="requested")
        return any(visit["reason"] == reason for visit in visits)


async def test_a_visit_request_delivered_twice_is_one_visit_in_the_districts_queue(
    fresh_postgres: str, tmp_path: Path, bootstrap: str, unique: Callable[[str], str]
) -> None:
    url = await migrate("intake", fresh_postgres)
    store = tmp_path / "keys.jsonl"
    keys = issue_keys(store)
    group = unique("intake-casework")
    app = build_app(settings(url, store, kafka_bootstrap_servers=bootstrap, kafka_group_id=group))
    runtime: Runtime = app.state.runtime
    application_id = await taken_in(runtime, "Xətai")
    await start_group_at_end(bootstrap, group, [topic.name for topic in runtime.consumer.topics])
    first = visit_requested(application_id, "decision_eligible")
    later = visit_requested(application_id, "placement_made")
    transport = httpx.ASGITransport(app=app)
    async with (
        runtime.lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://intake") as client,
    ):
        staff = Staff(client, keys)
        # The same record twice (a producer's retry, a replay), then a second request: once the
        # second is queued, both deliveries of the first were consumed before it (one key, one
        # partition, in order).
        await publish(bootstrap, [first, first, later])
        arrived = await until(lambda: staff.queued("xetai-worker", "placement_made"), 60)
        assert arrived, "the visit requests never reached the queue"
        visits = await staff.get("xetai-worker", "/visits", status="requested")
        elsewhere = await staff.get("nesimi-worker", "/visits")
        journey = (await staff.get("ops", f"/applications/{application_id}"))["journey"]
    assert [v["reason"] for v in visits] == ["decision_eligible", "placement_made"]
    assert {v["application_id"] for v in visits} == {str(application_id)}
    assert (visits[0]["message"], visits[0]["language"]) == ("Müraciətiniz təsdiq edildi.", "az")
    assert (visits[0]["district"], visits[0]["requested_by"]) == ("Xətai", None)
    assert elsewhere == []
    steps = [step["type"] for step in journey]
    assert steps.count("notifications.visit.requested") == 2
