"""The partner streams (`public.*`) of a real run: no applicant can be found in them, and one
application's story reads in order under one pseudonymous id. The services' /metrics agree with
what was sent."""

import asyncio
import json
import re
import time
from collections import defaultdict
from typing import Any
from uuid import UUID

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from socialsvc_common.contract import topics
from socialsvc_common.pseudonym import public_application_id
from tests.harness import records_since

from .applicants import mixed_applications
from .conftest import Platform
from .test_journey import complete, journeys_when_complete, outcome, submit_all

pytestmark = pytest.mark.integration


def personal_values(forms: list[dict[str, Any]], ids: list[str]) -> list[str]:
    found = [*ids, *(UUID(i).hex for i in ids)]
    for form in forms:
        person = form["applicant"]
        found += [person["fin"], person["first_name"], person["last_name"], person["mobile_phone"]]
        found += [person["mobile_phone"].removeprefix("+994"), person["birth_date"]]
        found += [person["email"]] if person["email"] else []
    return found


def text_of(record: Any) -> str:
    headers = " ".join(f"{k}={v.decode()}" for k, v in record.headers)
    return f"{record.key.decode()} {record.value.decode()} {headers}"


def samples(text: str) -> "Samples":
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def public_stories(
    bootstrap: str, since_ms: int, forbidden: list[str], refs: dict[str, str]
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Every public record since `since_ms`, checked for personal data; ours by pseudonymous id,
    in the order things happened."""
    stories: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for topic in topics.PUBLIC_APPLICATION_TOPICS:
        for record in await records_since(bootstrap, topic.name, since_ms):
            text = text_of(record)
            leaked = [v for v in forbidden if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text)]
            assert not leaked, f"{topic.name} carries {leaked}"
            value = json.loads(record.value)
            headers = dict(record.headers)
            assert record.key.decode() == headers["ce_subject"].decode()
            assert record.key.decode() == value["application_ref"]
            assert "ce_causationid" not in headers
            if value["application_ref"] in refs:
                stories[value["application_ref"]].append((headers["ce_time"].decode(), value))
    return {ref: sorted(story, key=lambda step: step[0]) for ref, story in stories.items()}


async def test_public_streams_tell_each_story_under_one_pseudonym_and_nobody_in_it(
    platform: Platform, bootstrap: str
) -> None:
    started_ms = int(time.time() * 1000) - 1000
    forms = mixed_applications(20, seed=11)
    async with platform.client("intake", timeout=30) as client:
        ids = await submit_all(client, forms)
        journeys = await journeys_when_complete(client, ids, seconds=120)
    assert all(complete(j) for j in journeys.values())
    placed = next(i for i, j in journeys.items() if j["status"] == "placed")
    async with platform.client("assignment", timeout=30) as client:
        offer = (await client.get("/placements", params={"application_id": placed})).json()[0]
        declined = await client.post(f"/placements/{offer['id']}/decline")
        assert declined.status_code == 202, declined.text

    key = platform.extra["pseudonym_key"].encode()
    refs = {str(public_application_id(UUID(i), key)): i for i in ids}
    mine = next(r for r, i in refs.items() if i == placed)
    deadline = time.monotonic() + 60
    while True:
        stories = await public_stories(bootstrap, started_ms, personal_values(forms, ids), refs)
        if any(v["status"] == "released" for _, v in stories[mine]) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)

    assert set(stories) == set(refs), "every application has a public story, none has two ids"
    for ref, application_id in refs.items():
        statuses = [value["status"] for _, value in stories[ref]]
        expected = ["received", outcome(journeys[application_id])]
        if journeys[application_id]["status"] in ("placed", "waitlisted"):
            expected.append(journeys[application_id]["status"])
        if application_id == placed:
            expected.append("released")
        # The declined place may go to one of ours who was waiting.
        promoted = ["placed"] if expected[-1] == "waitlisted" else []
        assert statuses in (expected, expected + promoted), (application_id, statuses)
    story = [value for _, value in stories[mine]]
    assert story[2]["provider_id"] == offer["provider_id"] == story[3]["provider_id"]
    assert story[3]["reason"] == "declined"
    assert story[0]["district"] == forms[ids.index(placed)]["applicant"]["district"]

    # Other runs on the shared broker may add records to the same topics, so the figures are
    # checked as relations that hold whatever else arrives: one twin for each private event.
    figures = {name: await caught_up(url) for name, url in platform.urls.items()}

    def count(service: str, family: str, **labels: str) -> float:
        return figures[service][family, frozenset(labels.items())]

    out = "socialsvc_messages_out_total"
    received = count("intake", out, topic=topics.APPLICATION_RECEIVED.name)
    assert received >= len(ids)
    assert count("intake", out, topic=topics.PUBLIC_APPLICATION_RECEIVED.name) == received
    decided = count(
        "eligibility",
        "socialsvc_messages_in_total",
        topic=topics.APPLICATION_RECEIVED.name,
        outcome="processed",
    )
    assert decided >= len(ids)
    assert count("eligibility", out, topic=topics.DECISION_MADE.name) == decided
    assert count("eligibility", out, topic=topics.PUBLIC_APPLICATION_DECIDED.name) == decided
    offers = count("assignment", out, topic=topics.PLACEMENT_MADE.name)
    assert offers >= 1
    assert count("assignment", out, topic=topics.PUBLIC_APPLICATION_PLACED.name) == offers
    for name, found in figures.items():
        service = frozenset({("service", name)})
        assert found["socialsvc_outbox_oldest_unsent_age_seconds", service] == 0
        assert found["socialsvc_outbox_unsent_events", service] == 0


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def caught_up(url: str, seconds: float = 60) -> Samples:
    """A service's metrics at a moment when it reports a lag for its partitions, all of it zero,
    and an empty outbox (the run is over, so that moment comes)."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as client:
        while True:
            found = samples((await client.get(url + "/metrics")).text)
            lags = [v for (n, _), v in found.items() if n == "socialsvc_consumer_lag_records"]
            backlog = [v for (n, _), v in found.items() if n == "socialsvc_outbox_unsent_events"]
            if lags and max(lags) == 0 and not any(backlog):
                return found
            assert time.monotonic() < deadline, f"{url} not caught up: lags {lags}, {backlog}"
            await asyncio.sleep(0.5)
