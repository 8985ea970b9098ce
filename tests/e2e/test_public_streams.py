"""The partner streams (`public.*`) of a real run: no applicant can be found in them, and one
application's story reads in order under one pseudonymous id. Their times are cut to the hour
(payload, ce_time and the Kafka record time) and no record names a victim of trafficking or
domestic violence, while the private decisions keep the exact moments and every group. The
services' /metrics agree with what was sent."""

import asyncio
import json
import re
import time
from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from assignment.registry import load_providers
from socialsvc_common.apikeys import Role
from socialsvc_common.contract import topics
from socialsvc_common.disclosure import default_disclosure_policy
from socialsvc_common.pseudonym import public_application_id
from tests.harness import end_offsets, records_from, records_since

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


POLICY = default_disclosure_policy()
SENSITIVE = {group.value for group in POLICY.sensitive_groups}
# The moments a public payload carries (an offer's expiry is cut too, checked by the unit test).
MOMENTS = ("received_at", "decided_at", "placed_at", "waitlisted_at", "released_at")
# Where each status comes in a story: what the hour alone cannot order (a place offered to
# someone who was waiting comes after the waiting).
STEP = {"received": 0, "eligible": 1, "ineligible": 1, "needs_information": 1}
STEP |= {"waitlisted": 2, "placed": 3, "released": 4}
VICTIM_FACTS = {"trafficking_victim", "domestic_violence_victim"}


def on_the_hour(at: datetime) -> bool:
    return POLICY.coarsen(at) == at


def check_coarse(record: Any, value: dict[str, Any]) -> None:
    """A public record's moments are all on the hour, its record time is its ce_time, and it
    names no sensitive group."""
    ce_time = datetime.fromisoformat(dict(record.headers)["ce_time"].decode())
    assert on_the_hour(ce_time), (record.topic, ce_time)
    assert record.timestamp == int(ce_time.timestamp() * 1000), record.topic
    for name in MOMENTS:
        if name in value:
            assert on_the_hour(datetime.fromisoformat(value[name])), (record.topic, name)
    assert not SENSITIVE & set(value.get("groups", [])), (record.topic, value["groups"])
    assert not any(group in record.value.decode() for group in SENSITIVE), record.topic


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
    bootstrap: str, starts: dict[TopicPartition, int], forbidden: list[str], refs: dict[str, str]
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Every public record from `starts` (their record times are cut to the hour, so the test
    takes offsets, not a time, at its start), checked for personal data; ours by pseudonymous id,
    in the order things happened."""
    stories: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for topic in topics.PUBLIC_APPLICATION_TOPICS:
        own = {tp: offset for tp, offset in starts.items() if tp.topic == topic.name}
        for record in await records_from(bootstrap, own):
            text = text_of(record)
            leaked = [v for v in forbidden if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text)]
            assert not leaked, f"{topic.name} carries {leaked}"
            # Other runs share the broker, and some put malformed records on these topics on
            # purpose: only ours (keyed by a ref of ours; a real id would be caught above) are read.
            if record.key.decode() not in refs:
                continue
            value = json.loads(record.value)
            headers = dict(record.headers)
            assert record.key.decode() == headers["ce_subject"].decode()
            assert record.key.decode() == value["application_ref"]
            assert "ce_causationid" not in headers
            check_coarse(record, value)
            stories[value["application_ref"]].append((headers["ce_time"].decode(), value))
    return {
        ref: sorted(story, key=lambda step: (step[0], STEP[step[1]["status"]]))
        for ref, story in stories.items()
    }


async def private_decisions(
    platform: Platform, bootstrap: str, since_ms: int, ids: list[str]
) -> dict[str, Any]:
    """The current decision.made of each of ours, by application id: the one this platform's
    eligibility made (another run's on the shared broker may decide ours as well)."""
    async with platform.client("eligibility", timeout=30) as client:
        current = {}
        for i in ids:
            answer = await client.get(f"/applications/{i}/decisions")
            assert answer.status_code == 200, answer.text
            current[next(d["event_id"] for d in answer.json() if d["current"])] = i
    found = {}
    for record in await records_since(bootstrap, topics.DECISION_MADE.name, since_ms):
        event_id = dict(record.headers)["ce_id"].decode()
        if event_id in current:
            found[current[event_id]] = (record, json.loads(record.value))
    return found


async def test_public_streams_tell_each_story_under_one_pseudonym_and_nobody_in_it(
    platform: Platform, bootstrap: str
) -> None:
    started_ms = int(time.time() * 1000) - 1000
    starts = await end_offsets(bootstrap, [t.name for t in topics.PUBLIC_APPLICATION_TOPICS])
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
        stories = await public_stories(bootstrap, starts, personal_values(forms, ids), refs)
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
        assert statuses in (expected, expected + promoted), (
            application_id,
            journeys[application_id]["status"],
            statuses,
        )
    story = [value for _, value in stories[mine]]
    assert story[2]["provider_id"] == offer["provider_id"] == story[3]["provider_id"]
    assert story[3]["reason"] == "declined"
    assert story[0]["district"] == forms[ids.index(placed)]["applicant"]["district"]

    # The victims among ours are in the private decisions, with the exact moment; their public
    # twins name neither (check_coarse) and say the hour of it.
    decisions = await private_decisions(platform, bootstrap, started_ms, ids)
    assert set(decisions) == set(ids)
    victims = {i for i, (_, made) in decisions.items() if SENSITIVE & set(made["groups"])}
    applied = {
        i
        for i, form in zip(ids, forms, strict=True)
        if {name for name, said in form["circumstances"].items() if said is True} & VICTIM_FACTS
    }
    assert "trafficking_victim" in {
        group for i in victims for group in decisions[i][1]["groups"]
    }, "a trafficking victim applied"
    assert victims == applied
    # Nor does a place: a provider of victims is `protected` on every record of a person.
    of_victims = {v.id for v in load_providers() if SENSITIVE & set(v.served_groups)}
    named = {v.get("provider_id") for story in stories.values() for _, v in story}
    assert not named & of_victims, named & of_victims
    exact = []
    for ref, application_id in refs.items():
        record, made = decisions[application_id]
        decided_at = datetime.fromisoformat(made["decided_at"])
        [twin] = [v for _, v in stories[ref] if STEP[v["status"]] == 1]
        assert datetime.fromisoformat(twin["decided_at"]) == POLICY.coarsen(decided_at)
        assert twin["groups"] == [g for g in made["groups"] if g not in SENSITIVE]
        assert made["age_band"] is not None
        assert twin["age_band"] == made["age_band"]
        ce_time = datetime.fromisoformat(dict(record.headers)["ce_time"].decode())
        exact += [not on_the_hour(decided_at), not on_the_hour(ce_time)]
    assert all(exact), "private decisions keep their exact moments"

    # Other runs on the shared broker may add records to the same topics, so the figures are
    # checked as relations that hold whatever else arrives: one twin for each private event.
    monitor = platform.keys[Role.MONITOR]
    figures = {name: await caught_up(url, monitor) for name, url in platform.urls.items()}

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


async def caught_up(url: str, key: str, seconds: float = 60) -> Samples:
    """A service's metrics, read with a monitor's `key`, at a moment when it reports a lag for
    its partitions, all of it zero, and an empty outbox (the run is over, so that moment comes)."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
        while True:
            found = samples((await client.get(url + "/metrics")).text)
            lags = [v for (n, _), v in found.items() if n == "socialsvc_consumer_lag_records"]
            backlog = [v for (n, _), v in found.items() if n == "socialsvc_outbox_unsent_events"]
            if lags and max(lags) == 0 and not any(backlog):
                return found
            assert time.monotonic() < deadline, f"{url} not caught up: lags {lags}, {backlog}"
            await asyncio.sleep(0.5)
