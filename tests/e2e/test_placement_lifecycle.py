"""A placement's closed loop on real Kafka and PostgreSQL: offered, accepted, started and ended;
declined; lapsed when nobody answers. Each release moves the place to the next person waiting."""

import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialsvc_common.apikeys import Role
from socialsvc_common.contract import topics
from socialsvc_common.contract.payloads import PlacementRefused, ProvisionType
from tests.harness import free_port, migrate, records_since, until, wait_committed

from .conftest import (
    bearer,
    issue_keys,
    start_groups_at_end,
    wait_for_log,
    wait_healthy,
)
from .test_assignment_capacity import launch, publish
from .test_provider_registry import fetch, home_care_in_xetai

pytestmark = pytest.mark.integration
OFFER_SECONDS = 15

REGISTRY = """
[[home_care]]
id = "hc-xetai"
name = "Xətai home care"
district = "Xətai"
caseload_limit = 1
"""


@pytest.fixture
async def assignment(
    bootstrap: str,
    database_factory: Callable[[str], str],
    tmp_path: Path,
    unique: Callable[[str], str],
) -> AsyncIterator[tuple[str, str, str, dict[str, str]]]:
    token = unique("l").split("-")[1]
    database = await migrate("assignment", database_factory(f"lifecycle_{token}"))
    group = f"assignment-lifecycle-{token}"
    await start_groups_at_end(bootstrap, {"assignment": group})
    registry = tmp_path / "providers.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    port = free_port()
    log = tmp_path / "assignment.log"
    operator = bearer(issue_keys(tmp_path / "api-keys.jsonl")[Role.OPERATOR])
    process = launch(
        log,
        {
            "ASSIGNMENT_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "ASSIGNMENT_DATABASE_URL": database,
            "ASSIGNMENT_KAFKA_GROUP_ID": group,
            "ASSIGNMENT_PROVIDERS_FILE": str(registry),
            "ASSIGNMENT_HTTP_PORT": str(port),
            "ASSIGNMENT_OFFER_DAYS": str(OFFER_SECONDS / 86_400),
            "ASSIGNMENT_OFFER_SWEEP_SECONDS": "0.5",
            "ASSIGNMENT_LOG_JSON": "true",
            "ASSIGNMENT_API_KEYS_FILE": str(tmp_path / "api-keys.jsonl"),
        },
    )
    try:
        wait_for_log(log, {"event": "started"})
        await wait_healthy(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}", database, group, operator
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def holder(database: str) -> dict[str, Any]:
    rows = fetch(database, "SELECT id, application_id, status FROM placements WHERE active")
    assert len(rows) == 1, rows  # one place: never two holders
    return rows[0]


async def test_offer_accept_start_end_decline_and_lapse(
    assignment: tuple[str, str, str, dict[str, str]], bootstrap: str
) -> None:
    url, database, group, operator = assignment
    people = home_care_in_xetai(4)  # one place, four people in decision order
    # The first takes the place; the others (on other partitions, read in any order) wait in
    # the order of their decisions.
    await wait_committed(bootstrap, group, await publish(bootstrap, people[:1]), 60)
    await wait_committed(bootstrap, group, await publish(bootstrap, people[1:]), 60)
    first = holder(database)
    assert (str(first["application_id"]), first["status"]) == (
        str(people[0].application_id),
        "offered",
    )

    async with httpx.AsyncClient(base_url=url, headers=operator, timeout=30) as client:
        start_too_early = await client.post(f"/placements/{first['id']}/start")
        accepted = await client.post(f"/placements/{first['id']}/accept")
        started = await client.post(f"/placements/{first['id']}/start")
        decline_late = await client.post(f"/placements/{first['id']}/decline")
        ended = await client.post(
            f"/placements/{first['id']}/release", json={"reason": "service_ended"}
        )
        second = holder(database)
        declined = await client.post(f"/placements/{second['id']}/decline")
        third = holder(database)
        bad_reason = await client.post(
            f"/placements/{third['id']}/release", json={"reason": "bored"}
        )

    assert start_too_early.status_code == 409
    assert accepted.json()["events"] == ["assignment.placement.updated"]
    assert started.json()["events"] == ["assignment.placement.updated"]
    assert decline_late.status_code == 409
    assert ended.json()["events"] == ["assignment.placement.released", "assignment.placement.made"]
    assert str(second["application_id"]) == str(people[1].application_id)
    assert declined.json()["events"] == [
        "assignment.placement.released",
        "assignment.placement.made",
    ]
    assert str(third["application_id"]) == str(people[2].application_id)
    assert bad_reason.status_code == 422

    # Nobody answers the third offer: it lapses and the place moves on to the fourth person.
    async def moved_on() -> dict[str, Any] | None:
        row = holder(database)
        return row if str(row["application_id"]) == str(people[3].application_id) else None

    fourth = await until(moved_on, seconds=OFFER_SECONDS + 20)
    assert fourth, "the lapsed offer's place never moved on to the fourth person"
    reasons = fetch(
        database,
        "SELECT release_reason FROM placements WHERE NOT active ORDER BY released_at",
    )
    assert [r["release_reason"] for r in reasons] == ["service_ended", "declined", "offer_lapsed"]
    assert fourth["status"] == "offered"
    assert fetch(database, "SELECT capacity, used FROM capacity_ledger") == [
        {"capacity": 1, "used": 1}
    ]


async def test_one_person_cannot_hold_home_care_and_residential_care(
    assignment: tuple[str, str, str, dict[str, str]], bootstrap: str
) -> None:
    _, database, group, _ = assignment
    person = "0123456789abcdef0123456789abcdef"
    home, residential, either = (
        d.model_copy(update={"person_ref": person, "provision_types": types})
        for d, types in zip(
            home_care_in_xetai(3),
            [
                [ProvisionType.HOME_CARE],
                [ProvisionType.RESIDENTIAL],
                [ProvisionType.RESIDENTIAL, ProvisionType.NGO_PROJECT],
            ],
            strict=True,
        )
    )
    since_ms = int(time.time() * 1000) - 1000
    await wait_committed(bootstrap, group, await publish(bootstrap, [home]), 60)
    assert str(holder(database)["application_id"]) == str(home.application_id)
    await wait_committed(bootstrap, group, await publish(bootstrap, [residential, either]), 60)

    async def refusals() -> list[PlacementRefused]:
        return [
            PlacementRefused.model_validate_json(r.value)
            for r in await records_since(bootstrap, topics.PLACEMENT_REFUSED.name, since_ms)
            if r.key.decode() in {str(residential.application_id), str(either.application_id)}
        ]

    # Applied is not yet published: the outbox relay sends the refusal after the commit. Read
    # once its outbox is empty, so a refusal of `either` would be there too.
    async def relayed() -> bool:
        return not fetch(database, "SELECT 1 FROM outbox WHERE sent_at IS NULL LIMIT 1")

    assert await until(relayed, seconds=30), "assignment's outbox never emptied"
    refused = await until(refusals, seconds=30)
    assert [r.application_id for r in refused] == [residential.application_id]
    assert "home_care" in refused[0].reason
    waiting = fetch(
        database,
        "SELECT provision_type FROM waitlist WHERE application_id = %s",
        either.application_id,
    )
    assert waiting == [{"provision_type": "ngo_project"}]  # residential struck out, NGO kept
