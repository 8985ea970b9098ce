"""Every citizen hears once, in their language, whichever channel works: fallback from channel to
channel and finally to the home-care team, delivery receipts, and a crash between a gateway's answer
and the database commit. All on the real broker, PostgreSQL, HTTP gateways and SMTP server."""

import asyncio
import json
import signal
import time
import uuid
from typing import Any

import httpx
import pytest

from notifications.channels import message_id
from notifications.signing import DEVELOPMENT_RECEIPT_SECRET, sign
from notifications.sinks.smtp_sink import BOUNCE_DOMAIN
from socialsvc_common.apikeys import Role
from socialsvc_common.contract import topics
from tests.harness import records_since, until

from .applicants import mixed_applications
from .conftest import Platform, log_lines, wait_for_log, wait_healthy
from .test_journey import (
    DECIDED,
    PLACED,
    complete,
    expected_messages,
    journeys_when_complete,
    outcome,
    steps,
)

pytestmark = pytest.mark.integration

SECRET = DEVELOPMENT_RECEIPT_SECRET.encode()
SENDER = "xidmet@sosial.example.az"  # the service's default sender


def person(*, email: str | None, preferred: str | None, alone: bool) -> dict[str, Any]:
    [form] = mixed_applications(1, seed=int(uuid.uuid4().int % 10_000))
    form["applicant"] |= {"email": email, "preferred_channel": preferred, "language": "az"}
    form["circumstances"]["lives_alone"] = alone
    return form


async def submit(platform: Platform, form: dict[str, Any]) -> str:
    async with platform.client("intake", timeout=30) as intake:
        response = await intake.post("/applications", json=form)
    assert response.status_code == 202, response.text
    application_id: str = response.json()["application_id"]
    return application_id


async def events(bootstrap: str, topic: topics.Topic, since: int, app: str) -> list[dict[str, Any]]:
    found = await records_since(bootstrap, topic.name, since)
    return [json.loads(r.value) for r in found if r.key == app.encode()]


async def wait_events(
    bootstrap: str, topic: topics.Topic, since: int, app: str, *, count: int, seconds: float = 120
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        found = await events(bootstrap, topic, since, app)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1)


async def messages_due(platform: Platform, app: str, seconds: float = 120) -> int:
    """How many messages the application's journey calls for, once it is decided (and placed)."""
    deadline = time.monotonic() + seconds
    async with platform.client("intake", timeout=30) as intake:
        while True:
            journey = (await intake.get(f"/applications/{app}")).json()
            seen = steps(journey)
            if seen[DECIDED] and (outcome(journey) != "eligible" or any(seen[t] for t in PLACED)):
                return expected_messages(journey)
            assert time.monotonic() < deadline, journey
            await asyncio.sleep(1)


async def completed(platform: Platform, app: str) -> dict[str, Any]:
    async with platform.client("intake", timeout=30) as intake:
        journey = (await journeys_when_complete(intake, [app], seconds=180))[app]
    assert complete(journey), journey
    return journey


async def control(url: str, **faults: int) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url + "/control", json=faults)
    assert response.status_code == 200, response.text


async def test_sms_then_email_then_inbox_then_the_home_care_team(
    platform: Platform, bootstrap: str
) -> None:
    since = int(time.time() * 1000)
    await control(platform.extra["sms"], fail_next=1000, fail_status=400)
    await control(platform.extra["inbox"], fail_next=1000, fail_status=404)
    form = person(email=f"yoxdur@{BOUNCE_DOMAIN}", preferred="sms", alone=True)
    app = await submit(platform, form)
    due = await messages_due(platform, app)

    visits = await wait_events(bootstrap, topics.HOME_VISIT_REQUESTED, since, app, count=due)
    failed = await wait_events(bootstrap, topics.NOTIFICATION_FAILED, since, app, count=3 * due)
    by_message: dict[str, list[tuple[str, bool]]] = {}
    for event in failed:
        by_message.setdefault(event["notification_id"], []).append(
            (event["channel"], event["final"])
        )
    # Each message walked the whole chain, in order, once, and ended with a visit request.
    assert len(visits) == due, visits
    assert {v["notification_id"] for v in visits} == set(by_message), (
        [(v["notification_id"][:8], v["message_kind"]) for v in visits],
        {k[:8]: v for k, v in by_message.items()},
        due,
    )
    for chain in by_message.values():
        assert chain == [("sms", False), ("email", False), ("egov_inbox", True)]
    for visit in visits:
        assert visit["channels_tried"] == ["sms", "email", "egov_inbox"]
        assert visit["language"] == "az"
        assert form["applicant"]["fin"] not in json.dumps(visit)
        assert form["applicant"]["mobile_phone"] not in json.dumps(visit)
    assert await events(bootstrap, topics.NOTIFICATION_DELIVERED, since, app) == []
    assert [
        m for m in platform.sink_lines("mail.jsonl") if form["applicant"]["email"] in m["to"]
    ] == []
    # Each request is one visit in intake's queue for the social workers, with what to tell.
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as client:

        async def queued() -> list[dict[str, Any]]:
            found = await client.get(
                "/visits", params={"status": "requested", "application_id": app}
            )
            assert found.status_code == 200, found.text
            listed: list[dict[str, Any]] = found.json()
            return listed if len(listed) >= due else []

        queue = await until(queued, 30)
    assert sorted(v["reason"] for v in queue) == sorted(v["message_kind"] for v in visits)
    assert {v["message"] for v in queue} == {v["text"] for v in visits}


async def test_no_channel_works_for_a_person_with_a_household(
    platform: Platform, bootstrap: str
) -> None:
    since = int(time.time() * 1000)
    await control(platform.extra["sms"], fail_next=1000, fail_status=400)
    await control(platform.extra["inbox"], fail_next=1000, fail_status=404)
    app = await submit(platform, person(email=None, preferred=None, alone=False))
    due = await messages_due(platform, app)
    failed = await wait_events(bootstrap, topics.NOTIFICATION_FAILED, since, app, count=2 * due)
    finals = [f for f in failed if f["final"]]
    assert len(finals) == due
    assert {f["channel"] for f in finals} == {"egov_inbox"}
    assert await events(bootstrap, topics.HOME_VISIT_REQUESTED, since, app) == []


async def test_receipts_confirm_delivery_and_a_failed_one_moves_to_the_next_channel(
    platform: Platform, bootstrap: str
) -> None:
    since = int(time.time() * 1000)
    await control(platform.extra["sms"], receipt_fail_next=1)
    form = person(email="vetendas@example.az", preferred="sms", alone=False)
    app = await submit(platform, form)
    due = expected_messages(await completed(platform, app))

    delivered = await wait_events(bootstrap, topics.NOTIFICATION_DELIVERED, since, app, count=due)
    failed = await events(bootstrap, topics.NOTIFICATION_FAILED, since, app)
    [refused] = failed
    assert refused["channel"] == "sms"
    assert not refused["final"]
    assert "receipt says failed" in refused["reason"]
    assert len(delivered) == due
    channels = {d["notification_id"]: d["channel"] for d in delivered}
    assert channels[refused["notification_id"]] == "email"  # the first message, by e-mail
    assert [c for n, c in channels.items() if n != refused["notification_id"]] == ["sms"] * (
        len(channels) - 1
    )
    [mail] = [
        m for m in platform.sink_lines("mail.jsonl") if m["to"] == [form["applicant"]["email"]]
    ]
    assert mail["message_id"] == message_id(refused["notification_id"], SENDER)
    # Each SMS was taken once and confirmed by a receipt before it counted as delivered.
    taken = [s["key"] for s in platform.sink_lines("sms.jsonl") if s["key"] in channels]
    assert sorted(taken) == sorted(channels)


async def test_bad_receipts_are_refused_and_a_repeat_changes_nothing(
    platform: Platform, bootstrap: str
) -> None:
    since = int(time.time() * 1000)
    app = await submit(platform, person(email=None, preferred=None, alone=False))
    await completed(platform, app)
    first, *_ = await events(bootstrap, topics.NOTIFICATION_DELIVERED, since, app)
    [stored] = [s for s in platform.sink_lines("sms.jsonl") if s["key"] == first["notification_id"]]
    receipt = json.dumps(
        {"reference": stored["key"], "message_id": stored["message_id"], "status": "failed"}
    ).encode()
    url = platform.urls["notifications"] + "/receipts"
    async with httpx.AsyncClient(timeout=10) as client:
        unsigned = await client.post(url, content=receipt)
        forged = await client.post(url, content=receipt, headers={"X-Signature": "sha256=00"})
        garbage = b'{"reference": "nope"}'
        invalid = await client.post(
            url, content=garbage, headers={"X-Signature": sign(SECRET, garbage)}
        )
        unknown = json.dumps(
            {"reference": str(uuid.uuid4()), "message_id": "x", "status": "delivered"}
        )
        missing = await client.post(
            url, content=unknown, headers={"X-Signature": sign(SECRET, unknown.encode())}
        )
        # A late, contradicting receipt for a message already confirmed changes nothing.
        late = await client.post(
            url, content=receipt, headers={"X-Signature": sign(SECRET, receipt)}
        )
    assert [unsigned.status_code, forged.status_code] == [401, 401]
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} >= {"reference", "message_id", "status"}
    assert missing.status_code == 404
    assert late.status_code == 200
    assert late.json()["status"] == "sent"
    for response in (unsigned, forged, invalid, missing):
        assert response.headers["content-type"] == "application/problem+json"
    assert await events(bootstrap, topics.NOTIFICATION_FAILED, since, app) == []


async def test_a_crash_between_the_gateway_call_and_the_commit_sends_one_message(
    platform: Platform, bootstrap: str
) -> None:
    since = int(time.time() * 1000)
    # The gateway stores the message, then takes its time to answer: long enough to crash in.
    await control(platform.extra["sms"], hold_answer_ms=8000)
    form = person(email=None, preferred=None, alone=False)
    phone = form["applicant"]["mobile_phone"]
    app = await submit(platform, form)

    def sent() -> list[dict[str, Any]]:
        return [line for line in platform.sink_lines("sms.jsonl") if line["to"] == phone]

    deadline = time.monotonic() + 60
    while not sent():
        assert time.monotonic() < deadline, "the first SMS never reached the gateway"
        await asyncio.sleep(0.1)
    [taken] = sent()
    platform.processes["notifications"].send_signal(signal.SIGKILL)
    platform.processes["notifications"].wait()
    await control(platform.extra["sms"], hold_answer_ms=0)
    platform.relaunch("notifications")
    await wait_healthy(platform.urls["notifications"])

    due = expected_messages(await completed(platform, app))
    delivered = await wait_events(bootstrap, topics.NOTIFICATION_DELIVERED, since, app, count=due)
    ids = [d["notification_id"] for d in delivered]
    assert len(ids) == due
    assert taken["key"] in ids
    keys = [line["key"] for line in sent()]
    assert sorted(keys) == sorted(set(keys)) == sorted(ids)
    # The restarted service asked again with the same key and got the first answer back, once.
    repeat = {"event": "repeat answered", "message_id": taken["message_id"]}
    wait_for_log(platform.logs["sinks"], repeat)
    lines = log_lines(platform.logs["sinks"])
    assert [line for line in lines if repeat.items() <= line.items()] != []
    assert len([line for line in lines if repeat.items() <= line.items()]) == 1
