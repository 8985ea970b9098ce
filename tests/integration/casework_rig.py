"""Intake's casework on a real PostgreSQL database, its HTTP API called in-process: keys scoped to
Xətai and to Nəsimi, cases submitted through the API and decided through the journey's handler."""

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from intake.app import IntakeSettings, build_app
from intake.journey import record_events
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.db import run, transaction
from socialsvc_common.service import Runtime
from tests.e2e.applicants import application

# Who calls: (key name, role, districts).
PEOPLE = {
    "clerk": (Role.SOCIAL_WORKER, ()),
    "xetai-worker": (Role.SOCIAL_WORKER, ("Xətai",)),
    "nesimi-worker": (Role.SOCIAL_WORKER, ("Nəsimi",)),
    "xetai-reviewer": (Role.REVIEWER, ("Xətai",)),
    "ops": (Role.OPERATOR, ()),
    "gateway": (Role.SUBMITTER, ()),
}


@dataclass
class Casework:
    runtime: Runtime
    client: httpx.AsyncClient
    keys: dict[str, str] = field(repr=False)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth(who))

    async def send(self, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body, headers=self.auth(who))

    async def submit(self, first: str, last: str, district: str, seed: int) -> dict[str, Any]:
        form = application(seed, random.Random(seed))
        form["applicant"] |= {"first_name": first, "last_name": last, "district": district}
        answer = await self.send("clerk", "POST", "/applications", form)
        assert answer.status_code == 202, answer.text
        return {"id": answer.json()["application_id"], "fin": form["applicant"]["fin"]}

    async def decide(
        self, application_id: str, outcome: p.Outcome, groups: list[p.TargetGroup]
    ) -> None:
        """Eligibility's decision, applied by intake's journey handler (as its consumer does)."""
        decision = p.DecisionMade(
            application_id=uuid.UUID(application_id),
            decided_at=datetime.now(UTC),
            outcome=outcome,
            rule_set_version="2026.1",
            district="Xətai",
            groups=groups,
            missing=["monthly_household_income_azn"]
            if outcome is p.Outcome.NEEDS_INFORMATION
            else [],
        )
        event = new_event(
            topics.DECISION_MADE,
            decision,
            producer="eligibility",
            application_id=decision.application_id,
        )
        async with transaction(self.runtime.sessions) as session:
            await record_events(session, [Received(event.envelope, decision)])

    async def sql(self, statement: str, **params: Any) -> None:
        async with transaction(self.runtime.sessions) as session:
            await run(session, text(statement), params)


def issue_keys(store: Path) -> dict[str, str]:
    return {
        name: issue(store, name, role, districts=districts)
        for name, (role, districts) in PEOPLE.items()
    }


def settings(url: str, store: Path, **more: Any) -> IntakeSettings:
    return IntakeSettings(database_url=url, api_keys_file=store, **more)


async def opened(url: str, store: Path) -> AsyncIterator[Casework]:
    """The intake app over `url` (migrated), called in-process without its consumer."""
    keys = issue_keys(store)
    app = build_app(settings(url, store))
    runtime: Runtime = app.state.runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield Casework(runtime, client, keys)
    await runtime.engine.dispose()
