"""Applications through all four services over real Kafka and PostgreSQL, as a citizen sees them."""

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from socialsvc_common.consumer import read_dead_letter
from socialsvc_common.contract import topics
from tests.harness import records_since, wait_committed

from .applicants import mixed_applications
from .conftest import Platform, log_lines

pytestmark = pytest.mark.integration
DECIDED = "eligibility.decision.made"
PLACED = ("assignment.placement.made", "assignment.placement.waitlisted")
DELIVERED = "notifications.message.delivered"


def steps(journey: dict[str, Any]) -> Counter[str]:
    return Counter(step["type"] for step in journey["journey"])


def outcome(journey: dict[str, Any]) -> str | None:
    decisions = [s["summary"]["outcome"] for s in journey["journey"] if s["type"] == DECIDED]
    return decisions[-1] if decisions else None


def expected_messages(journey: dict[str, Any]) -> int:
    # received + decision, and the placement or waitlist when eligible
    return 3 if outcome(journey) == "eligible" else 2


def complete(journey: dict[str, Any]) -> bool:
    seen = steps(journey)
    placed = sum(seen[t] for t in PLACED)
    return (
        seen[DECIDED] >= 1
        and (placed >= 1 or outcome(journey) != "eligible")
        and seen[DELIVERED] >= expected_messages(journey)
    )


async def submit_all(client: httpx.AsyncClient, forms: list[dict[str, Any]]) -> list[str]:
    limit = asyncio.Semaphore(16)

    async def submit(form: dict[str, Any]) -> str:
        async with limit:
            response = await client.post("/applications", json=form)
        assert response.status_code == 202, response.text
        return str(response.json()["application_id"])

    return list(await asyncio.gather(*(submit(form) for form in forms)))


async def journeys_when_complete(
    client: httpx.AsyncClient, ids: list[str], seconds: float = 240
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        journeys = {i: (await client.get(f"/applications/{i}")).json() for i in ids}
        if all(complete(j) for j in journeys.values()) or time.monotonic() > deadline:
            return journeys
        await asyncio.sleep(1)


async def test_200_applications_reach_the_citizen_once_per_step(platform: Platform) -> None:
    forms = mixed_applications(200, seed=int(time.time()))
    async with platform.client("intake", timeout=30) as client:
        ids = await submit_all(client, forms)
        journeys = await journeys_when_complete(client, ids)

    stuck = [i for i, j in journeys.items() if not complete(j)]
    assert not stuck, f"{len(stuck)} journeys incomplete, e.g. {journeys[stuck[0]]}"
    outcomes = Counter(outcome(j) for j in journeys.values())
    assert set(outcomes) == {"eligible", "ineligible", "needs_information"}, outcomes
    for journey in journeys.values():
        seen = steps(journey)
        assert seen[DECIDED] == 1, journey
        assert sum(seen[t] for t in PLACED) == (1 if outcome(journey) == "eligible" else 0), journey
        assert seen[DELIVERED] == expected_messages(journey), journey
    sent = platform.sink_lines("sms.jsonl") + platform.sink_lines("mail.jsonl")
    keys = [line.get("key") or line.get("message_id") for line in sent]
    assert len(keys) == len(set(keys)) == sum(expected_messages(j) for j in journeys.values())
    for name in ("intake", "eligibility", "assignment", "notifications"):
        assert not [
            x for x in log_lines(platform.logs[name]) if x["event"] == "record dead-lettered"
        ]


async def test_repeated_events_change_nothing_and_bad_records_are_dead_lettered(
    platform: Platform, bootstrap: str
) -> None:
    started_ms = int(time.time() * 1000) - 1000
    async with platform.client("intake", timeout=30) as client:
        ids = await submit_all(client, mixed_applications(3, seed=7))
        before = await journeys_when_complete(client, ids)
        assert all(complete(j) for j in before.values())
        messages_before = len(platform.sink_lines("sms.jsonl") + platform.sink_lines("mail.jsonl"))

        decisions = [
            r
            for r in await records_since(bootstrap, topics.DECISION_MADE.name, started_ms)
            if r.key.decode() in ids
        ]
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        sent = []
        for record in decisions:
            sent.append(
                await producer.send_and_wait(
                    record.topic, record.value, record.key, headers=list(record.headers)
                )
            )
        bad = await producer.send_and_wait(
            topics.DECISION_MADE.name,
            b'{"application_id": 1',
            key=ids[0].encode(),
            headers=list(decisions[0].headers),
        )
        await producer.stop()

        where = {TopicPartition(m.topic, m.partition): m.offset for m in [*sent, bad]}
        for service in ("intake", "assignment", "notifications"):
            await wait_committed(bootstrap, platform.groups[service], where, 60)
        after = {i: (await client.get(f"/applications/{i}")).json() for i in ids}

    assert {i: steps(j) for i, j in after.items()} == {i: steps(j) for i, j in before.items()}
    assert (
        len(platform.sink_lines("sms.jsonl") + platform.sink_lines("mail.jsonl")) == messages_before
    )
    async with platform.client("assignment") as client:
        for application_id in ids:
            placements = (
                await client.get("/placements", params={"application_id": application_id})
            ).json()
            assert len(placements) <= 1
    for service in ("intake", "assignment", "notifications"):
        letters = [
            read_dead_letter(r.headers)
            for r in await records_since(bootstrap, topics.DEAD_LETTERS[service].name, started_ms)
        ]
        ours = [
            x for x in letters if (x.original_topic, x.original_offset) == (bad.topic, bad.offset)
        ]
        assert len(ours) == 1, service
        assert ours[0].error_class == "InvalidRecord"
        assert "DecisionMade" in ours[0].error_message
