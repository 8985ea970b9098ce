"""Issue 5's proof on real Kafka and PostgreSQL: three assignment processes in one consumer group
share one database while 5,000 eligible decisions compete for 200 places; then 50 places are
released through the HTTP API of all three at once.

The ledger is never over capacity, everyone is placed or waitlisted exactly once (in the database
and on Kafka), and every freed place goes to the first waiting person who fits it: priority first,
then time of decision.
"""

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from psycopg.rows import dict_row

from assignment.matching import WaitlistEntry, fits, reach_of, waitlist_order
from assignment.placements import today
from assignment.registry import Provider, parse_providers
from socialsvc_common.apikeys import Role
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Envelope, new_event
from socialsvc_common.contract.payloads import (
    DecisionMade,
    Outcome,
    PlacementMade,
    PlacementReleased,
    ProvisionType,
    TargetGroup,
)
from socialsvc_common.db import libpq_url
from socialsvc_common.geography import load_geography
from tests.harness import free_port, migrate, records_since, wait_committed

from .conftest import (
    bearer,
    issue_keys,
    log_lines,
    start_groups_at_end,
    wait_for_log,
    wait_healthy,
)

pytestmark = [pytest.mark.integration]
T = TypeVar("T")

APPLICATIONS = 5_000
RELEASES = 50
REPLICAS = 3
CHUNK = 500
SEED = 5
# 200 places: three home-care teams, two institutions, three NGO projects in three regions.
REGISTRY = """
[[home_care]]
id = "hc-xetai"
name = "Xətai home care"
district = "Xətai"
caseload_limit = 25

[[home_care]]
id = "hc-gence"
name = "Gəncə home care"
district = "Gəncə"
caseload_limit = 25

[[home_care]]
id = "hc-seki"
name = "Şəki home care"
district = "Şəki"
caseload_limit = 20

[[residential]]
id = "inst-xezer"
name = "Xəzər residential home"
district = "Xəzər"
places = 30
target_groups = ["elderly", "elderly_alone"]

[[residential]]
id = "inst-gence"
name = "Gəncə residential home"
district = "Gəncə"
places = 25
target_groups = ["elderly", "disability"]

[[ngo_project]]
id = "ngo-yasamal"
name = "Day centre"
organisation = "NGO one"
districts = ["Yasamal", "Nizami"]
capacity = 30
target_groups = ["disability", "child_with_disability"]
contract_start = 2020-01-01
contract_end = 2099-12-31

[[ngo_project]]
id = "ngo-goygol"
name = "Community care"
organisation = "NGO two"
districts = ["Göygöl"]
capacity = 25
target_groups = ["elderly", "elderly_alone", "low_income_family"]
contract_start = 2020-01-01
contract_end = 2099-12-31

[[ngo_project]]
id = "ngo-seki"
name = "Rehabilitation"
organisation = "NGO three"
districts = ["Şəki", "Qax"]
capacity = 20
target_groups = ["disability", "elderly"]
contract_start = 2020-01-01
contract_end = 2099-12-31
"""
# The registry's districts, three times as common as their neighbours in the same regions.
DISTRICTS = {
    **dict.fromkeys(["Xətai", "Xəzər", "Yasamal", "Nizami", "Gəncə", "Göygöl", "Şəki", "Qax"], 3),
    **dict.fromkeys(["Sabunçu", "Binəqədi", "Daşkəsən", "Samux", "Zaqatala", "Qəbələ"], 1),
}
GROUPS = [
    TargetGroup.ELDERLY,
    TargetGroup.ELDERLY_ALONE,
    TargetGroup.DISABILITY,
    TargetGroup.CHILD_WITH_DISABILITY,
    TargetGroup.LOW_INCOME_FAMILY,
    TargetGroup.DOMESTIC_VIOLENCE_VICTIM,
]


def decisions(count: int, rng: random.Random) -> list[DecisionMade]:
    """Eligible decisions with coarse scores and times, so that ties are common."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=30)
    return [
        DecisionMade(
            application_id=uuid.uuid4(),
            decided_at=start + timedelta(minutes=rng.randrange(2_000)),
            outcome=Outcome.ELIGIBLE,
            rule_set_version="capacity-test",
            district=rng.choices(list(DISTRICTS), weights=list(DISTRICTS.values()))[0],
            groups=rng.sample(GROUPS, k=rng.choice([1, 2])),
            need_level=rng.randint(1, 3),
            priority_score=None if rng.random() < 0.03 else float(rng.randrange(0, 101, 5)),
            provision_types=rng.sample(list(ProvisionType), k=rng.choice([1, 2, 3])),
        )
        for _ in range(count)
    ]


def reachable_capacity(people: list[DecisionMade], providers: list[Provider]) -> int:
    """The places these people must fill. A provider with a place still free at the end had room
    for everyone who could reach it, so a provider that more people can reach than there are
    places in all cannot be left with room: the data is made so that this holds for each."""
    geography, on = load_geography(), today()
    total = sum(p.capacity for p in providers)
    reach = {
        provider.id: sum(
            provider.provision_type in person.provision_types
            and reach_of(provider, person.district, person.groups, geography, on) is not None
            for person in people
        )
        for provider in providers
    }
    short = {pid: n for pid, n in reach.items() if n <= total}
    assert not short, f"test data: too few people reach {short}; every provider must be filled"
    return total


@dataclass
class Replicas:
    urls: list[str]
    logs: list[Path]
    processes: list["subprocess.Popen[bytes]"]
    group: str
    database: str
    admin_key: str = field(repr=False)  # never in a failure message

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_key)

    def stop(self) -> list[int]:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return [process.wait(timeout=60) for process in self.processes]


def launch(log: Path, env: dict[str, str]) -> "subprocess.Popen[bytes]":
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "assignment"], stdout=out, stderr=out, env={**os.environ, **env}
        )


@pytest.fixture
async def replicas(
    bootstrap: str,
    database_factory: Callable[[str], str],
    tmp_path: Path,
    unique: Callable[[str], str],
) -> AsyncIterator[Replicas]:
    token = unique("c").split("-")[1]
    database = database_factory(f"capacity_{token}")
    group = f"assignment-capacity-{token}"
    await start_groups_at_end(bootstrap, {"assignment": group})
    registry = tmp_path / "providers.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    ports = [free_port() for _ in range(REPLICAS)]
    logs = [tmp_path / f"assignment-{n}.log" for n in range(REPLICAS)]
    admin = issue_keys(tmp_path / "api-keys.jsonl")[Role.ADMINISTRATOR]
    processes: list[subprocess.Popen[bytes]] = []
    env = {
        "ASSIGNMENT_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ASSIGNMENT_DATABASE_URL": database,
        "ASSIGNMENT_KAFKA_GROUP_ID": group,
        "ASSIGNMENT_PROVIDERS_FILE": str(registry),
        "ASSIGNMENT_LOG_JSON": "true",
        "ASSIGNMENT_API_KEYS_FILE": str(tmp_path / "api-keys.jsonl"),
    }
    try:
        await migrate("assignment", database)
        # All replicas start at once on a database without a ledger: creating it must not race
        # (it takes an advisory lock).
        for port, log in zip(ports, logs, strict=True):
            processes.append(launch(log, env | {"ASSIGNMENT_HTTP_PORT": str(port)}))
        for log in logs:
            wait_for_log(log, {"event": "started"})
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            await wait_healthy(url)
        yield Replicas(urls, logs, processes, group, database, admin)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


async def publish(bootstrap: str, people: list[DecisionMade]) -> dict[TopicPartition, int]:
    """Sends the decisions as eligibility would; returns the last offset written per partition."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    last: dict[TopicPartition, int] = {}
    try:
        for start in range(0, len(people), CHUNK):
            sent = []
            for decision in people[start : start + CHUNK]:
                event = new_event(
                    topics.DECISION_MADE,
                    decision,
                    producer="eligibility",
                    application_id=decision.application_id,
                )
                headers = event.envelope.to_headers()
                sent.append(
                    await producer.send(event.topic.name, event.value(), event.key, headers=headers)
                )
            for meta in await asyncio.gather(*sent):
                where = TopicPartition(meta.topic, meta.partition)
                last[where] = max(last.get(where, -1), meta.offset)
    finally:
        await producer.stop()
    return last


async def settled(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], seconds: float
) -> T:
    """The first result of `fetch` that is `done`, or the last one when the time is up."""
    deadline = time.monotonic() + seconds
    while True:
        result = await fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(1)


async def ours(bootstrap: str, topic: topics.Topic, since_ms: int, ids: set[str]) -> list[Any]:
    records = await records_since(bootstrap, topic.name, since_ms)
    return [r for r in records if r.key.decode() in ids]


def query(database: str, sql: str) -> list[dict[str, Any]]:
    url = libpq_url(database)
    with psycopg.connect(url, row_factory=dict_row) as connection:
        return connection.execute(sql.encode()).fetchall()


def assert_ledger_sound(database: str) -> None:
    ledger = query(database, "SELECT provider_id, capacity, used FROM capacity_ledger")
    active = query(database, "SELECT count(*) AS n FROM placements WHERE active")[0]["n"]
    assert not [row for row in ledger if not 0 <= row["used"] <= row["capacity"]], ledger
    assert sum(row["used"] for row in ledger) == active, (ledger, active)


def assert_placed_or_waitlisted_once(database: str, ids: set[str]) -> None:
    placed = Counter(str(r["application_id"]) for r in query(database, "SELECT * FROM placements"))
    waiting = Counter(str(r["application_id"]) for r in query(database, "SELECT * FROM waitlist"))
    wrong = {
        i: (placed[i], waiting[i]) for i in ids if (placed[i], waiting[i]) not in {(1, 0), (0, 1)}
    }
    assert not wrong, f"{len(wrong)} applications not placed or waitlisted exactly once: {wrong}"
    assert set(placed) | set(waiting) == ids


def expected_promotions(
    freed: list[str], waiting: list[WaitlistEntry], providers: dict[str, Provider]
) -> list[str]:
    """Who should take the places freed at these providers, in the order the promotions happened
    (one at a time per provision type: each release locks that type's whole waitlist)."""
    remaining, geography, on = waitlist_order(waiting), load_geography(), today()
    chosen = []
    for provider_id in freed:
        first = next(e for e in remaining if fits(e, providers[provider_id], geography, on))
        remaining.remove(first)
        chosen.append(str(first.application_id))
    return chosen


@dataclass
class Figures:
    published: float = 0.0
    processed: float = 0.0
    on_kafka: float = 0.0
    placed: int = 0
    waitlisted: int = 0
    released_in: float = 0.0
    promotions: int = 0


async def fill(
    replicas: Replicas, bootstrap: str, people: list[DecisionMade], figures: Figures
) -> None:
    """Publishes the decisions, waits until the group is past all of them, checks the outcome."""
    ids = {str(person.application_id) for person in people}
    since_ms = int(time.time() * 1000) - 1000
    started = time.monotonic()
    last = await publish(bootstrap, people)
    assert len(last) == topics.DECISION_MADE.partitions == 6
    figures.published = time.monotonic() - started
    await wait_committed(bootstrap, replicas.group, last, seconds=300)
    figures.processed = time.monotonic() - started
    print(
        f"\n{len(people)} decisions: published in {figures.published:.1f}s, "
        f"processed by the group in {figures.processed:.1f}s"
    )

    assert_ledger_sound(replicas.database)
    assert_placed_or_waitlisted_once(replicas.database, ids)

    async def outcomes() -> list[Any]:
        made = await ours(bootstrap, topics.PLACEMENT_MADE, since_ms, ids)
        return made + await ours(bootstrap, topics.PLACEMENT_WAITLISTED, since_ms, ids)

    events = await settled(outcomes, lambda found: len(found) >= len(ids), seconds=120)
    figures.on_kafka = time.monotonic() - started
    per_application = Counter(record.key.decode() for record in events)
    assert per_application == Counter(ids), "not exactly one placement or waitlisting event each"
    placed_on_kafka = {r.key.decode() for r in events if r.topic == topics.PLACEMENT_MADE.name}
    placed = query(replicas.database, "SELECT application_id FROM placements")
    assert placed_on_kafka == {str(row["application_id"]) for row in placed}
    figures.placed, figures.waitlisted = len(placed), len(events) - len(placed)


async def release_all(replicas: Replicas, placement_ids: list[str]) -> None:
    """Releases the placements concurrently, spread over the replicas in turn."""
    urls = replicas.urls
    async with httpx.AsyncClient(headers=replicas.admin, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{urls[n % len(urls)]}/placements/{placement_id}/release",
                    json={"reason": "moved"},
                )
                for n, placement_id in enumerate(placement_ids)
            )
        )
    failed = [(a.status_code, a.text) for a in answers if a.status_code != 202]
    assert not failed, failed


async def releases_on_kafka(
    bootstrap: str, since_ms: int, ids: set[str], expected: int
) -> tuple[list[Any], list[Any]]:
    """The released events, and the placements they caused, once `expected` of each are there."""

    async def fetch() -> tuple[list[Any], list[Any]]:
        released = await ours(bootstrap, topics.PLACEMENT_RELEASED, since_ms, ids)
        causes = {Envelope.from_headers(r.headers).event_id for r in released}
        made = await ours(bootstrap, topics.PLACEMENT_MADE, since_ms, ids)
        caused = [r for r in made if Envelope.from_headers(r.headers).causation_id in causes]
        return released, caused

    return await settled(fetch, lambda found: min(map(len, found)) >= expected, seconds=60)


def in_promotion_order(
    released: list[Any], promoted: list[Any]
) -> list[tuple[PlacementMade, PlacementReleased]]:
    """Each promotion with the release that caused it, in the order the promotions were made."""
    frees = {
        Envelope.from_headers(r.headers).event_id: PlacementReleased.model_validate_json(r.value)
        for r in released
    }
    pairs = []
    for record in promoted:
        cause = Envelope.from_headers(record.headers).causation_id
        assert cause is not None
        pairs.append((PlacementMade.model_validate_json(record.value), frees[cause]))
    return sorted(pairs, key=lambda pair: pair[0].placed_at)


def waiting_now(database: str) -> list[WaitlistEntry]:
    rows = query(database, "SELECT decision FROM waitlist WHERE waiting")
    return [WaitlistEntry.from_decision(DecisionMade.model_validate(r["decision"])) for r in rows]


async def release_and_promote(
    replicas: Replicas,
    bootstrap: str,
    ids: set[str],
    providers: dict[str, Provider],
    figures: Figures,
) -> None:
    """Releases 50 places; each must go to the first waiting person who fits, and only once."""
    database = replicas.database
    waiting = waiting_now(database)
    active = query(database, "SELECT id FROM placements WHERE active ORDER BY id")
    chosen = random.Random(SEED).sample([str(row["id"]) for row in active], RELEASES)
    since_ms = int(time.time() * 1000) - 1000
    started = time.monotonic()
    await release_all(replicas, chosen)
    figures.released_in = time.monotonic() - started

    released, promoted = await releases_on_kafka(bootstrap, since_ms, ids, RELEASES)
    assert (len(released), len(promoted)) == (RELEASES, RELEASES)
    promotions = in_promotion_order(released, promoted)
    figures.promotions = len(promotions)
    assert {str(freed.placement_id) for _, freed in promotions} == set(chosen)
    assert all(made.provider_id == freed.provider_id for made, freed in promotions)
    expected = expected_promotions([made.provider_id for made, _ in promotions], waiting, providers)
    wrong = [
        (made.provider_id, str(made.application_id), should)
        for (made, _), should in zip(promotions, expected, strict=True)
        if str(made.application_id) != should
    ]
    assert not wrong, f"promotions out of waitlist order (provider, promoted, expected): {wrong}"

    assert_ledger_sound(database)
    ledger = query(database, "SELECT provider_id, capacity, used FROM capacity_ledger")
    assert all(row["used"] == row["capacity"] for row in ledger), ledger
    ended = query(database, "SELECT id, release_reason FROM placements WHERE NOT active")
    assert {str(r["id"]): r["release_reason"] for r in ended} == dict.fromkeys(chosen, "moved")
    still = {str(entry.application_id) for entry in waiting_now(database)}
    assert still == {str(entry.application_id) for entry in waiting} - set(expected)
    holders = query(database, "SELECT application_id FROM placements WHERE active")
    assert max(Counter(str(r["application_id"]) for r in holders).values()) == 1


async def test_5000_decisions_fill_200_places_and_releases_promote_in_order(
    replicas: Replicas, bootstrap: str
) -> None:
    rng = random.Random(SEED)
    registry = parse_providers(tomllib.loads(REGISTRY), load_geography())
    people = decisions(APPLICATIONS, rng)
    figures = Figures()

    reachable = reachable_capacity(people, registry)
    await fill(replicas, bootstrap, people, figures)
    assert figures.placed == reachable == 200
    ids = {str(person.application_id) for person in people}
    await release_and_promote(replicas, bootstrap, ids, {p.id: p for p in registry}, figures)

    print(
        f"\n{APPLICATIONS} decisions, {REPLICAS} replicas: published in {figures.published:.1f}s, "
        f"processed (group committed past all) after {figures.processed:.1f}s, all outcomes on "
        f"Kafka after {figures.on_kafka:.1f}s; {figures.placed} placed, {figures.waitlisted} "
        f"waitlisted; {RELEASES} releases answered in {figures.released_in:.1f}s, "
        f"{figures.promotions} promotions"
    )
    for log in replicas.logs:
        lines = log_lines(log)
        assert not [x for x in lines if x["event"] == "record dead-lettered"], log
        warnings = Counter(x["event"] for x in lines if x.get("level") in {"warning", "error"})
        if warnings:
            print(f"{log.name}: {dict(warnings)}")
    exits = replicas.stop()
    assert all(code in (0, -signal.SIGTERM) for code in exits), exits
    for log in replicas.logs:
        wait_for_log(log, {"event": "stopped"}, timeout=1)
