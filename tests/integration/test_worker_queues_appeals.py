"""eligibility's appeals and decision histories within a scoped caller's districts, on real
PostgreSQL: a reviewer of one district lists, reads and decides that district's appeals alone
(another's answers 404, as one that does not exist); each appeal names its district and the
case's reference; unscoped staff see every district."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from eligibility.app import EligibilitySettings, build_app, decision_for
from eligibility.appeals.policy import load_appeal_policy
from eligibility.ruleset import default_rule_sets
from eligibility.store import save_decisions
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.explanations import application_ref
from socialsvc_common.public_stream import PublicStream
from tests.harness import migrate
from tests.integration.test_appeals import refused_application

pytestmark = pytest.mark.integration


@dataclass
class Eligibility:
    client: httpx.AsyncClient
    keys: dict[str, str]
    database: str

    async def call(self, who: str, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        return await self.client.request(method, path, headers=headers, **options)


@pytest.fixture
async def eligibility(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[Eligibility]:
    store = tmp_path / "keys.jsonl"
    keys = {
        "worker": issue(store, "worker", Role.SOCIAL_WORKER),
        "worker-gence": issue(store, "worker-g", Role.SOCIAL_WORKER, districts=["Gəncə"]),
        "reviewer-xetai": issue(store, "reviewer-x", Role.REVIEWER, districts=["Xətai"]),
        "operator": issue(store, "op", Role.OPERATOR),
    }
    database = await migrate("eligibility", fresh_postgres)
    # The routes read and write the database alone; nothing here needs the broker.
    app = build_app(EligibilitySettings(database_url=database, api_keys_file=store))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://eligibility") as client:
        yield Eligibility(client, keys, database)


async def refused_in(database: str, district: str) -> UUID:
    """An application of `district` decided ineligible (so it can be appealed)."""
    template = refused_application()
    application = template.model_copy(
        update={
            "application_id": uuid4(),
            "applicant": template.applicant.model_copy(update={"district": district}),
        }
    )
    event = new_event(
        topics.APPLICATION_RECEIVED,
        application,
        producer="t",
        application_id=application.application_id,
    )
    row, _ = decision_for(
        Received(event.envelope, application),
        default_rule_sets(),
        PublicStream("eligibility", b"k" * 32),
        datetime.now(UTC),
        load_appeal_policy(),
    )
    engine = make_engine(database)
    try:
        async with transaction(session_factory(engine)) as session:
            await save_decisions(session, [row])
    finally:
        await engine.dispose()
    return application.application_id


async def test_a_scoped_reviewer_sees_and_decides_the_appeals_of_their_districts_alone(
    eligibility: Eligibility,
) -> None:
    xetai = await refused_in(eligibility.database, "Xətai")
    gence = await refused_in(eligibility.database, "Gəncə")
    grounds = {"grounds": "the decision overlooked the household's debts"}

    # A worker of Gəncə cannot appeal a Xətai decision; the unscoped worker appeals both.
    foreign = await eligibility.call(
        "worker-gence", "POST", f"/applications/{xetai}/appeals", json=grounds
    )
    assert foreign.status_code == 404, foreign.text
    appeals = {}
    for application in (xetai, gence):
        lodged = await eligibility.call(
            "worker", "POST", f"/applications/{application}/appeals", json=grounds
        )
        assert lodged.status_code == 201, lodged.text
        appeals[application] = lodged.json()["id"]
    assert lodged.json()["district"] == "Gəncə"

    listed = (await eligibility.call("reviewer-xetai", "GET", "/appeals")).json()
    assert [(a["id"], a["district"]) for a in listed] == [(appeals[xetai], "Xətai")]
    assert listed[0]["reference"] == application_ref(xetai)
    every = (await eligibility.call("operator", "GET", "/appeals")).json()
    assert {a["id"] for a in every} == set(appeals.values())
    assert {a["reference"] for a in every} == {application_ref(xetai), application_ref(gence)}

    # Another district's appeal and history are not there for the Xətai reviewer.
    elsewhere = appeals[gence]
    assert (
        await eligibility.call("reviewer-xetai", "GET", f"/appeals/{elsewhere}")
    ).status_code == 404
    assert (
        await eligibility.call("reviewer-xetai", "GET", f"/applications/{gence}/decisions")
    ).status_code == 404
    verdict = {"status": "upheld", "reasons": "the rules were applied correctly"}
    refused = await eligibility.call(
        "reviewer-xetai", "POST", f"/appeals/{elsewhere}/decision", json=verdict
    )
    assert refused.status_code == 404, refused.text
    still = (await eligibility.call("operator", "GET", f"/appeals/{elsewhere}")).json()
    assert still["status"] == "lodged"

    # Their own district's: read and decided, with the reviewer recorded.
    history = await eligibility.call("reviewer-xetai", "GET", f"/applications/{xetai}/decisions")
    assert history.status_code == 200
    assert len(history.json()) == 1
    decided = await eligibility.call(
        "reviewer-xetai", "POST", f"/appeals/{appeals[xetai]}/decision", json=verdict
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "upheld"
    assert decided.json()["decided_by"] == "reviewer:reviewer-x"
    assert decided.json()["district"] == "Xətai"
    gence_worker = (await eligibility.call("worker-gence", "GET", "/appeals")).json()
    assert [a["id"] for a in gence_worker] == [elsewhere]
