"""A provider's workspace in assignment, on real PostgreSQL and Kafka: a provider key sees its own
entry, placements and waitlist and nobody else's; it moves its own placements along and records
services on them (404 on another provider's, 409 before the service started); each service is
published without personal data and with the provider as the actor; when a place frees, the
first of the provider's waitlist is the one who gets it; the person's erasure empties the notes."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlmodel import select

from assignment.app import AssignmentSettings, build_app
from assignment.erasure import on_subjects_erased
from assignment.placements import Registry, today
from assignment.placing import place_all
from assignment.providers import ProviderCache, seed
from assignment.registry import load_providers
from assignment.store import PlacementRow
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.erasure import ErasureReason, SubjectErased
from socialsvc_common.contract.payloads import DecisionMade, ProvisionType, TargetGroup
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.explanations import application_ref
from socialsvc_common.geography import load_geography
from socialsvc_common.public_stream import PublicStream
from socialsvc_common.service import Runtime
from tests.harness import TEST_PROVIDER, migrate, records_since, until
from tests.unit.test_assignment_matching import decision

pytestmark = pytest.mark.integration
OTHER = "ngo-other-test"
CHILD = (TargetGroup.CHILD_WITH_DISABILITY,)
NGO = (ProvisionType.NGO_PROJECT,)
# A phone number and a name in a provider's note: stored, never published.
NOTE = "Aysel Quliyeva, +994501234567: yaxşı keçdi"


def registry_file(path: Path) -> Path:
    ends = today() + timedelta(days=20)
    path.write_text(
        f'''
[[ngo_project]]
id = "{TEST_PROVIDER}"
name = "Umid day centre"
organisation = "Umid"
districts = ["Xətai", "Nizami"]
capacity = 1
target_groups = ["child_with_disability"]
contract_start = 2026-01-01
contract_end = {ends.isoformat()}

[[ngo_project]]
id = "{OTHER}"
name = "Other project"
organisation = "Other"
districts = ["Xətai"]
capacity = 5
target_groups = ["elderly"]
contract_start = 2026-01-01
contract_end = 2099-12-31
''',
        encoding="utf-8",
    )
    return path


@dataclass
class Assignment:
    client: httpx.AsyncClient
    keys: dict[str, str]
    database: str
    started_ms: int

    async def as_(self, who: str, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        return await self.client.request(method, path, headers=headers, **options)


@pytest.fixture
async def assignment(
    fresh_postgres: str, tmp_path: Path, bootstrap: str
) -> AsyncIterator[Assignment]:
    store = tmp_path / "keys.jsonl"
    keys = {
        "mine": issue(store, "umid", Role.PROVIDER, provider=TEST_PROVIDER),
        "other": issue(store, "other", Role.PROVIDER, provider=OTHER),
        "operator": issue(store, "op", Role.OPERATOR),
    }
    providers = registry_file(tmp_path / "providers.toml")
    settings = AssignmentSettings(
        database_url=await migrate("assignment", fresh_postgres),
        kafka_bootstrap_servers=bootstrap,
        api_keys_file=store,
        providers_file=providers,
    )
    app = build_app(settings)
    # The routes and the outbox relay to the real broker; no consumer, so decisions other runs
    # publish on the shared broker cannot take this test's places.
    runtime: Runtime = app.state.runtime
    async with transaction(runtime.sessions) as session:
        await seed(session, load_providers(providers))
    started_ms = int(datetime.now(UTC).timestamp() * 1000) - 1000
    await runtime.producer.start()
    relay = asyncio.create_task(runtime.relay.run())
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://assignment") as client:
            yield Assignment(client, keys, fresh_postgres, started_ms)
    finally:
        runtime.relay.stop()
        await relay
        await runtime.producer.stop()
        await runtime.engine.dispose()


async def place(database: str, decisions: list[DecisionMade]) -> None:
    """The decisions applied as assignment's consumer applies them (one batch)."""
    registry = Registry(ProviderCache(load_geography()), PublicStream("assignment", b"k" * 32))
    engine = make_engine(database)
    batch = [
        Received(
            new_event(
                topics.DECISION_MADE, d, producer="t", application_id=d.application_id
            ).envelope,
            d,
        )
        for d in decisions
    ]
    try:
        async with transaction(session_factory(engine)) as session:
            await place_all(session, registry, batch)
    finally:
        await engine.dispose()


async def holders(database: str) -> list[PlacementRow]:
    engine = make_engine(database)
    try:
        async with session_factory(engine)() as session:
            query = select(PlacementRow).where(PlacementRow.provider_id == TEST_PROVIDER)
            return [row for row in (await session.exec(query)).all() if row.active]
    finally:
        await engine.dispose()


async def erase(database: str, application_id: UUID) -> None:
    """The person's erasure as assignment's consumer applies it."""
    erased = SubjectErased(
        application_id=application_id,
        erasure_id=uuid4(),
        person_ref="ab" * 16,
        reason=ErasureReason.SUBJECT_REQUEST,
        legal_basis="test",
        erased_at=datetime.now(UTC),
    )
    event = new_event(topics.SUBJECT_ERASED, erased, producer="t", application_id=application_id)
    engine = make_engine(database)
    try:
        async with transaction(session_factory(engine)) as session:
            await on_subjects_erased(session, [Received(event.envelope, erased)])
    finally:
        await engine.dispose()


async def published(bootstrap: str, since_ms: int, key: UUID) -> list[Any]:
    """The records of assignment.service.delivered.v1 about one application since `since_ms`."""
    found = await records_since(bootstrap, topics.SERVICE_DELIVERED.name, since_ms)
    return [record for record in found if record.key == str(key).encode()]


def people() -> list[DecisionMade]:
    """Five children with a disability, decided in this order: the first takes the one place;
    the others wait by priority, then time of decision; the one in Gəncə is beyond the
    project's reach, and the elderly person is not in its target groups."""
    base = datetime.now(UTC) - timedelta(hours=1)
    first, low, high, tie_late, far, old = (
        decision(district=d, types=NGO, groups=g, score=s, decided_at=base + timedelta(minutes=m))
        for d, g, s, m in (
            ("Xətai", CHILD, 50.0, 0),
            ("Nizami", CHILD, 20.0, 1),
            ("Xətai", CHILD, 80.0, 2),
            ("Xətai", CHILD, 20.0, 3),
            ("Gəncə", CHILD, 90.0, 4),
            ("Xətai", (TargetGroup.ELDERLY,), 99.0, 5),
        )
    )
    return [first, low, high, tie_late, far, old]


async def test_a_provider_works_on_its_own_placements_and_nothing_else(
    assignment: Assignment, bootstrap: str
) -> None:
    first, low, high, tie_late, far, old = people()
    await place(assignment.database, [first, low, high, tie_late, far])
    await place(assignment.database, [old])
    [offered] = await holders(assignment.database)
    assert offered.application_id == first.application_id
    placement = str(offered.id)

    entry = (await assignment.as_("mine", "GET", "/provider")).json()
    assert entry["id"] == TEST_PROVIDER
    assert (entry["capacity"], entry["in_use"], entry["free"]) == (1, 1, 0)
    assert (entry["contract_days_left"], entry["contract_warning"]) == (20, True)
    assert (await assignment.as_("other", "GET", "/provider")).json()["contract_warning"] is False

    mine = (await assignment.as_("mine", "GET", "/provider/placements")).json()
    assert [p["placement_id"] for p in mine] == [placement]
    assert mine[0]["reference"] == application_ref(first.application_id)
    assert mine[0]["district"] == "Xətai"
    assert mine[0]["status"] == "offered"
    assert not {"person_ref", "name", "fin"} & set(mine[0])
    theirs = (await assignment.as_("other", "GET", "/provider/placements")).json()
    assert placement not in {p["placement_id"] for p in theirs}
    assert [p["application_id"] for p in theirs] == [str(old.application_id)]

    # Another provider can do nothing to this placement: as if it did not exist.
    service = {"delivered_on": today().isoformat(), "kind": "visit", "minutes": 40, "note": NOTE}
    for step, body in [
        ("accept", None),
        ("start", None),
        ("decline", None),
        ("release", {"reason": "service_ended"}),
        ("services", service),
    ]:
        refused = await assignment.as_(
            "other", "POST", f"/placements/{placement}/{step}", json=body
        )
        assert refused.status_code == 404, (step, refused.text)
    assert (
        await assignment.as_("other", "GET", f"/placements/{placement}/services")
    ).status_code == 404

    # Its own: no service before the service started; then accepted, started, a service.
    early = await assignment.as_("mine", "POST", f"/placements/{placement}/services", json=service)
    assert early.status_code == 409, early.text
    assert early.json()["type"].endswith("/not-started")
    for step in ("accept", "start"):
        moved = await assignment.as_("mine", "POST", f"/placements/{placement}/{step}")
        assert moved.json() == {"events": ["assignment.placement.updated"]}, moved.text
    recorded = await assignment.as_(
        "mine", "POST", f"/placements/{placement}/services", json=service
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["events"] == ["assignment.service.delivered"]
    assert recorded.json()["recorded_by"] == {"role": "provider", "name": "umid"}
    listed = (await assignment.as_("mine", "GET", f"/placements/{placement}/services")).json()
    assert [(s["kind"], s["minutes"], s["note"]) for s in listed] == [("visit", 40, NOTE)]
    started = (await assignment.as_("mine", "GET", "/provider/placements?status=started")).json()
    assert [(p["services_delivered"], p["started_at"] is not None) for p in started] == [(1, True)]
    [now_held] = await holders(assignment.database)
    assert now_held.changed_by == "provider:umid"

    records = await until(
        lambda: published(bootstrap, assignment.started_ms, first.application_id), seconds=30
    )
    assert len(records) == 1, records
    payload = json.loads(records[0].value)
    assert set(payload) == {
        "placement_id",
        "application_id",
        "provider_id",
        "kind",
        "delivered_on",
        "minutes",
        "recorded_at",
    }
    assert payload["provider_id"] == TEST_PROVIDER
    text = records[0].value.decode()
    assert "Aysel" not in text
    assert "99450" not in text
    assert dict(records[0].headers)["ce_actor"] == b"provider:umid"

    # The waitlist in the order places go: priority, then time of decision; nobody out of reach
    # or outside the project's groups.
    waitlist = (await assignment.as_("mine", "GET", "/provider/waitlist")).json()
    assert [w["application_id"] for w in waitlist] == [
        str(p.application_id) for p in (high, low, tie_late)
    ]
    assert [w["position"] for w in waitlist] == [1, 2, 3]
    assert waitlist[1]["district"] == "Nizami"
    assert waitlist[0]["reference"] == application_ref(high.application_id)
    assert (await assignment.as_("other", "GET", "/provider/waitlist")).json() == []

    # A provider does not say the person declined or withdrew consent: those are not its to give.
    for reason in ("declined", "consent_withdrawn", "offer_lapsed", "review_ended"):
        wrong = await assignment.as_(
            "mine", "POST", f"/placements/{placement}/release", json={"reason": reason}
        )
        assert wrong.status_code == 422, wrong.text
        assert wrong.json()["type"].endswith("/reason-not-for-providers")
    # The service ends: the place goes to the first of that list, and the list moves up.
    ended = await assignment.as_(
        "mine", "POST", f"/placements/{placement}/release", json={"reason": "service_ended"}
    )
    assert ended.json()["events"] == ["assignment.placement.released", "assignment.placement.made"]
    [next_holder] = await holders(assignment.database)
    assert next_holder.application_id == UUID(waitlist[0]["application_id"])
    moved_up = (await assignment.as_("mine", "GET", "/provider/waitlist")).json()
    assert [(w["application_id"], w["position"]) for w in moved_up] == [
        (waitlist[1]["application_id"], 1),
        (waitlist[2]["application_id"], 2),
    ]
    late = await assignment.as_("mine", "POST", f"/placements/{placement}/services", json=service)
    assert late.status_code == 409

    # The person's subject access shows the service; their erasure empties the provider's note.
    query = {"application_ids": [str(first.application_id)]}
    held = (await assignment.as_("operator", "POST", "/subject/holdings", json=query)).json()
    [delivery] = [h for h in held["holdings"] if h["category"] == "service_delivered"]
    assert (delivery["data"]["kind"], delivery["data"]["note"]) == ("visit", NOTE)
    await erase(assignment.database, first.application_id)
    kept = (await assignment.as_("mine", "GET", f"/placements/{placement}/services")).json()
    assert [(s["kind"], s["minutes"], s["note"]) for s in kept] == [("visit", 40, None)]
