"""Notifications' list of the messages about an application, for staff, on real PostgreSQL: kinds,
channels, language, status and times in the order they occurred; never the text nor the contact;
the rows of events that called for no message left out; delivery time set once by the outcome."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest

from notifications.app import NotificationsSettings, build_app
from notifications.outcomes import delivered
from notifications.store import FAILED, PENDING, SENT, ContactRow, NotificationRow
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.contract import payloads as p
from socialsvc_common.db import transaction
from socialsvc_common.service import Runtime
from tests.harness import key_per_role, migrate

pytestmark = pytest.mark.integration
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Rig:
    runtime: Runtime
    client: httpx.AsyncClient
    keys: dict[Role, str]

    async def messages(self, role: Role, application_id: UUID) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return await self.client.get(f"/applications/{application_id}/messages", headers=headers)


@pytest.fixture
async def rig(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[Rig]:
    url = await migrate("notifications", fresh_postgres)
    store = tmp_path / "keys.jsonl"
    keys = key_per_role(store, "messages")
    app = build_app(NotificationsSettings(database_url=url, api_keys_file=store))
    runtime: Runtime = app.state.runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
        yield Rig(runtime, client, keys)
    await runtime.engine.dispose()


def message(application_id: UUID, kind: str, status: str, minutes: int) -> NotificationRow:
    at = START + timedelta(minutes=minutes)
    return NotificationRow(
        id=uuid4(),
        application_id=application_id,
        event_id=uuid4(),
        kind=kind,
        context={"provider_name": "Mərhəmət evi"},
        status=status,
        channel="sms",
        attempts=1,
        occurred_at=at,
        hold_until=at,
        next_attempt_at=at,
    )


async def test_staff_see_what_was_sent_and_when_but_no_text_and_no_contact(rig: Rig) -> None:
    citizen, other = uuid4(), uuid4()
    contact = ContactRow(
        application_id=citizen,
        fin="1AB2C3D",
        mobile_phone="+994501234567",
        email="leyla@example.az",
        language="ru",
        district="Xətai",
    )
    received = message(citizen, "received", PENDING, 0)
    silent = message(citizen, "none", SENT, 1)
    placed = message(citizen, "placement_made", FAILED, 2)
    someone_else = message(other, "received", SENT, 0)
    now = START + timedelta(minutes=5)
    async with transaction(rig.runtime.sessions) as session:
        assert delivered(received, contact, p.Channel.SMS, now)
        assert delivered(received, contact, p.Channel.SMS, now + timedelta(minutes=1))
        session.add_all([contact, received, silent, placed, someone_else])
    answer = await rig.messages(Role.SOCIAL_WORKER, citizen)
    assert answer.status_code == 200, answer.text
    listed = answer.json()
    assert [(m["kind"], m["status"], m["language"]) for m in listed] == [
        ("received", SENT, "ru"),
        ("placement_made", FAILED, "ru"),
    ]
    # Delivered once: a second report of the same delivery does not move its time.
    first = listed[0]
    assert datetime.fromisoformat(first["delivered_at"]) == now
    assert datetime.fromisoformat(first["sent_at"]) == now
    assert listed[1]["delivered_at"] is None
    assert set(first) == {
        "id",
        "kind",
        "channel",
        "language",
        "status",
        "occurred_at",
        "sent_at",
        "delivered_at",
    }
    assert "Mərhəmət" not in answer.text
    assert "+99450" not in answer.text
    assert "1AB2C3D" not in answer.text
    for role in (Role.REVIEWER, Role.OPERATOR, Role.ADMINISTRATOR):
        assert (await rig.messages(role, citizen)).json() == listed
    for role in (Role.SUBMITTER, Role.PROVIDER, Role.CITIZEN_PORTAL):
        assert (await rig.messages(role, citizen)).status_code == 403
    assert (await rig.messages(Role.OPERATOR, uuid4())).json() == []


async def test_a_worker_of_other_districts_is_told_of_no_such_messages(
    rig: Rig, tmp_path: Path
) -> None:
    citizen = uuid4()
    async with transaction(rig.runtime.sessions) as session:
        session.add(
            ContactRow(
                application_id=citizen,
                fin="1AB2C3D",
                mobile_phone="+994501234567",
                language="az",
                district="Xətai",
            )
        )
        session.add(message(citizen, "received", SENT, 0))
    store = tmp_path / "scoped.jsonl"
    xetai = issue(store, "aysel", Role.SOCIAL_WORKER, districts=["Xətai"])
    nesimi = issue(store, "rauf", Role.SOCIAL_WORKER, districts=["Nəsimi"])
    app = build_app(
        NotificationsSettings(database_url=rig.runtime.settings.database_url, api_keys_file=store)
    )
    transport = httpx.ASGITransport(app=app)
    path = f"/applications/{citizen}/messages"
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://n") as client:
            own = await client.get(path, headers={"Authorization": f"Bearer {xetai}"})
            other = await client.get(path, headers={"Authorization": f"Bearer {nesimi}"})
            unknown = await client.get(
                f"/applications/{uuid4()}/messages", headers={"Authorization": f"Bearer {xetai}"}
            )
    finally:
        await app.state.runtime.engine.dispose()
    assert own.status_code == 200
    assert [m["kind"] for m in own.json()] == ["received"]
    assert other.status_code == 404, other.text
    assert other.json()["type"].endswith("/not-found")
    assert unknown.status_code == 404
