"""Canaries: applications with FINs, phone numbers, e-mail addresses and surnames seen nowhere
else go through the whole platform; afterwards none of them is in any log file of any process,
nor in any record of a topic meant to be free of personal data (decisions, placements,
notifications, and every public.* topic the broker has)."""

import random
import string
import time
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from socialsvc_common.apikeys import Role
from socialsvc_common.contract import topics
from tests.harness import records_since

from .applicants import mixed_applications
from .conftest import Platform
from .test_journey import complete, journeys_when_complete, submit_all

pytestmark = pytest.mark.integration
FREE_OF_PERSONAL_DATA = (
    topics.DECISION_MADE,
    topics.PLACEMENT_MADE,
    topics.PLACEMENT_WAITLISTED,
    topics.PLACEMENT_REFUSED,
    topics.PLACEMENT_UPDATED,
    topics.PLACEMENT_RELEASED,
    topics.NOTIFICATION_DELIVERED,
    topics.NOTIFICATION_FAILED,
)


def canaries(count: int) -> list[dict[str, str]]:
    rng = random.SystemRandom()
    made = []
    for _ in range(count):
        body = "".join(rng.choices(string.ascii_uppercase + string.digits, k=5))
        made.append(
            {
                "fin": rng.choice(string.digits) + body + rng.choice(string.ascii_uppercase),
                "mobile_phone": f"+99477{rng.randint(1_000_000, 9_999_999)}",
                "email": f"canary.{rng.getrandbits(48):012x}@example.az",
                "last_name": "Kanareyka" + "".join(rng.choices(string.ascii_lowercase, k=8)),
            }
        )
    return made


def traces(canary: dict[str, str]) -> list[str]:
    """What would give a canary away: each value, and the phone without its +."""
    return [*canary.values(), canary["mobile_phone"].removeprefix("+")]


async def public_topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(name for name in await admin.list_topics() if name.startswith("public."))
    finally:
        await admin.close()


async def test_no_canary_reaches_a_log_or_a_topic_free_of_personal_data(
    platform: Platform, bootstrap: str
) -> None:
    since_ms = int(time.time() * 1000) - 1000
    birds = canaries(12)
    forms = mixed_applications(len(birds), seed=int(time.time()))
    for form, canary in zip(forms, birds, strict=True):
        form["applicant"] |= canary
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as client:
        ids = await submit_all(client, forms)
        journeys = await journeys_when_complete(client, ids, seconds=180)
    assert all(complete(j) for j in journeys.values()), "the canaries did not finish"
    # With an e-mail address given, messages go by e-mail.
    assert platform.sink_lines("mail.jsonl"), "nothing reached the citizens"

    secrets = [trace for canary in birds for trace in traces(canary)]
    for name, log in platform.logs.items():
        text = log.read_text(encoding="utf-8")
        found = [secret for secret in secrets if secret in text]
        assert not found, f"{name}.log carries {found}"

    # The search finds a canary where one belongs: intake's own topic carries the application.
    received = await records_since(bootstrap, topics.APPLICATION_RECEIVED.name, since_ms)
    assert any(birds[0]["fin"].encode() in (r.value or b"") for r in received)

    names = [t.name for t in FREE_OF_PERSONAL_DATA] + await public_topics(bootstrap)
    checked: dict[str, int] = {}
    for name in names:
        records: list[Any] = await records_since(bootstrap, name, since_ms)
        checked[name] = len(records)
        for record in records:
            raw = b"".join(
                [record.key or b"", record.value or b"", *(v or b"" for _, v in record.headers)]
            ).decode("utf-8", errors="replace")
            found = [secret for secret in secrets if secret in raw]
            assert not found, f"{name} offset {record.offset} carries {found}"
    print(f"records checked per topic: {checked}")
    assert checked[topics.DECISION_MADE.name] >= len(birds)
    assert checked[topics.NOTIFICATION_DELIVERED.name] >= len(birds)
