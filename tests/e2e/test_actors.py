"""Who did what, on the whole platform over real Kafka and PostgreSQL: each command from outside
leaves its actor on the event it caused (`ce_actor`), on the row it changed, in the journey and in
`socialsvc-ops trace`; what the services do by themselves names nobody, nor do the partner twins.
"""

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from intake.app import EGOV_NAMESPACE
from socialsvc_common.apikeys import Role
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.pseudonym import public_application_id
from tests.harness import records_since

from .applicants import mixed_applications
from .conftest import Platform
from .ops_tool import ops_json, poll
from .test_provider_registry import fetch, ngo

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(shared_platform: Platform) -> Platform:
    """The module's tests share one platform: each looks only at applications of its own."""
    return shared_platform


RECEIVED = "intake.application.received"
PLACED = "assignment.placement.made"
UPDATED = "assignment.placement.updated"
RELEASED = "assignment.placement.released"
WORKER = "social_worker:e2e-social_worker"
OPERATOR = "operator:e2e-operator"
ADMINISTRATOR = "administrator:e2e-administrator"


def now_ms() -> int:
    return int(time.time() * 1000)


async def actors_on(
    bootstrap: str, topic: topics.Topic, since_ms: int, application_id: str
) -> list[str | None]:
    """The `ce_actor` of each record about the application on the topic, in order."""
    records = await records_since(bootstrap, topic.name, since_ms)
    return [
        dict(r.headers).get("ce_actor", b"").decode() or None
        for r in records
        if r.key == application_id.encode()
    ]


async def status_when(
    client: httpx.AsyncClient, application_id: str, done: Any, seconds: float = 90
) -> dict[str, Any]:
    last: list[Any] = [None]

    async def check() -> dict[str, Any] | None:
        response = await client.get(f"/applications/{application_id}")
        body: dict[str, Any] = response.json()
        last[0] = body
        return body if response.is_success and done(body) else None

    try:
        found: dict[str, Any] = await poll(f"application {application_id}", check, seconds)
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen: {last[0]}") from None
    return found


def kinds(status: dict[str, Any]) -> list[str]:
    return [step["type"] for step in status["journey"]]


def step_actors(status: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (s["type"], str(Actor.model_validate(s["actor"])) if s["actor"] else None)
        for s in status["journey"]
    ]


async def traced(bootstrap: str, application_id: str) -> list[tuple[str, str | None]]:
    steps = await asyncio.to_thread(ops_json, bootstrap, "trace", application_id)
    return [(s["type"], s["actor"]) for s in steps]


async def test_submissions_and_added_facts_name_who_gave_them(
    platform: Platform, bootstrap: str
) -> None:
    since = now_ms()
    intake = platform.extra["databases"]["intake"]
    form = mixed_applications(10, seed=23)[9]  # a family of four that did not state its income
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as client:
        application_id = (await client.post("/applications", json=form)).json()["application_id"]
        # The decision, not any second step: the reception's message may be delivered first.
        first = await status_when(
            client, application_id, lambda s: "eligibility.decision.made" in kinds(s)
        )
        assert first["status"] == "needs_information", first
        added = await client.patch(
            f"/applications/{application_id}", json={"monthly_household_income_azn": "320"}
        )
        assert added.status_code == 202, added.text
        final = await status_when(
            client, application_id, lambda s: kinds(s).count("eligibility.decision.made") >= 2
        )

    assert Actor.model_validate(final["submitted_by"]) == Actor.parse(WORKER)
    assert Actor.model_validate(final["facts_added_by"]) == Actor.parse(WORKER)
    row = fetch(
        intake,
        "SELECT submitted_by, facts_added_by FROM applications WHERE id = %s",
        uuid.UUID(application_id),
    )
    assert row == [{"submitted_by": WORKER, "facts_added_by": WORKER}]
    journey = step_actors(final)
    assert [a for t, a in journey if t == RECEIVED] == [WORKER, WORKER]
    assert {a for t, a in journey if t != RECEIVED} == {None}, journey
    stored = fetch(
        intake,
        "SELECT actor FROM journey WHERE application_id = %s AND type = %s",
        uuid.UUID(application_id),
        RECEIVED,
    )
    assert [r["actor"] for r in stored] == [WORKER, WORKER]

    headers = await actors_on(bootstrap, topics.APPLICATION_RECEIVED, since, application_id)
    assert headers == [WORKER, WORKER]
    decided = await actors_on(bootstrap, topics.DECISION_MADE, since, application_id)
    assert len(decided) >= 2
    assert set(decided) == {None}  # the service decided, nobody told it how
    key = str(
        public_application_id(uuid.UUID(application_id), platform.extra["pseudonym_key"].encode())
    )
    public = await actors_on(bootstrap, topics.PUBLIC_APPLICATION_RECEIVED, since, key)
    assert public == [None, None]  # partners learn what happened, not who asked for it

    trace = await traced(bootstrap, application_id)
    assert [a for t, a in trace if t == RECEIVED] == [WORKER, WORKER]
    assert ("eligibility.decision.made", None) in trace


async def egov(bootstrap: str, form: dict[str, Any], actor: Actor | None) -> str:
    submission = new_event(
        topics.EGOV_APPLICATION_SUBMITTED,
        p.ApplicationForm.model_validate(form),
        producer="egov",
        application_id=uuid.uuid4(),
        actor=actor,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            submission.topic.name,
            submission.value(),
            key=submission.key,
            headers=submission.envelope.to_headers(),
        )
    finally:
        await producer.stop()
    return str(uuid.uuid5(EGOV_NAMESPACE, str(submission.envelope.event_id)))


async def test_an_egov_submission_names_its_client_or_the_gateway(
    platform: Platform, bootstrap: str
) -> None:
    forms = mixed_applications(3, seed=29)
    named = await egov(bootstrap, forms[0], Actor(role=Role.SUBMITTER, name="asan-xidmet"))
    unnamed = await egov(bootstrap, forms[1], None)
    async with platform.client("intake", Role.OPERATOR, timeout=30) as client:
        for application_id, expected in (
            (named, "submitter:asan-xidmet"),
            (unnamed, "submitter:egov-gateway"),
        ):
            status = await status_when(client, application_id, lambda s: bool(s["journey"]))
            assert str(Actor.model_validate(status["submitted_by"])) == expected
            assert step_actors(status)[0] == (RECEIVED, expected)


async def test_provider_changes_and_placement_steps_name_who_made_them(
    platform: Platform, bootstrap: str
) -> None:
    assignment = platform.extra["databases"]["assignment"]
    async with platform.client("assignment", Role.ADMINISTRATOR, timeout=30) as admin:
        created = await admin.put("/providers/ngo-actors", json=ngo(id="ngo-actors"))
        assert created.status_code == 201, created.text
        listed = {row["id"]: row for row in (await admin.get("/providers")).json()}
    assert listed["ngo-actors"]["changed_by"] == {
        "role": "administrator",
        "name": "e2e-administrator",
    }
    assert listed["hc-xetai"]["changed_by"] is None  # seeded from the registry file
    assert fetch(assignment, "SELECT changed_by FROM providers WHERE id = 'ngo-actors'") == [
        {"changed_by": ADMINISTRATOR}
    ]

    since = now_ms()
    form = mixed_applications(1, seed=31)[0]  # an elderly person living alone in Xətai
    async with (
        platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as intake,
        platform.client("assignment", Role.OPERATOR, timeout=30) as operator,
    ):
        application_id = (await intake.post("/applications", json=form)).json()["application_id"]

        async def offered() -> list[dict[str, Any]]:
            query = {"application_id": application_id}
            rows: list[dict[str, Any]] = (await operator.get("/placements", params=query)).json()
            return [row for row in rows if row["active"]]

        offers = await poll("the offer", offered)
        assert [row["changed_by"] for row in offers] == [None]  # the service made the offer
        placement = offers[0]["id"]
        for path, body in (("accept", None), ("start", None), ("release", "service_ended")):
            answer = await operator.post(
                f"/placements/{placement}/{path}", json={"reason": body} if body else None
            )
            assert answer.status_code == 202, answer.text
        final = await status_when(
            intake, application_id, lambda s: kinds(s).count(UPDATED) == 2 and RELEASED in kinds(s)
        )

    stored = fetch(
        assignment, "SELECT changed_by FROM placements WHERE id = %s", uuid.UUID(placement)
    )
    assert stored == [{"changed_by": OPERATOR}]
    journey = step_actors(final)
    assert [a for t, a in journey if t in {UPDATED, RELEASED}] == [OPERATOR] * 3
    assert {a for t, a in journey if t == PLACED} == {None}
    updated = await actors_on(bootstrap, topics.PLACEMENT_UPDATED, since, application_id)
    released = await actors_on(bootstrap, topics.PLACEMENT_RELEASED, since, application_id)
    assert (updated, released) == ([OPERATOR, OPERATOR], [OPERATOR])
    trace = await traced(bootstrap, application_id)
    assert [a for t, a in trace if t in {UPDATED, RELEASED}] == [OPERATOR] * 3
    assert {a for t, a in trace if t == PLACED} == {None}
