"""Delivery receipts in batches, on the real receipt API (uvicorn) and PostgreSQL: one transaction
a batch whatever its size, an answer per receipt, the one-receipt form as before, and the local
gateways' sender resending only what the platform asks for again."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import String, cast, event, func, select, update
from sqlmodel import col

from notifications.receipts import MAX_RECEIPTS, receipts_router
from notifications.signing import sign
from notifications.sinks import ReceiptSender
from notifications.store import (
    ACCEPTED,
    FAILED,
    NOTIFICATIONS,
    PENDING,
    SENT,
    TABLES,
    ContactRow,
    NotificationRow,
)
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.outbox import OUTBOX, OutboxRelay, OutboxRow
from socialsvc_common.problems import install_problem_handlers
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables, served

pytestmark = pytest.mark.integration

SECRET = b"receipt-batches-test-secret"


@dataclass
class Rig:
    """The receipt API over a database of its own, counting commits and statements."""

    engine: Any
    client: httpx.AsyncClient
    url: str
    commits: list[object] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)

    async def post(self, payload: Any) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {"X-Signature": sign(SECRET, body)}
        return await self.client.post(self.url, content=body, headers=headers)

    async def message(
        self, status: str = ACCEPTED, *, email: str | None = None, channel: str = "sms"
    ) -> UUID:
        """A message sent on `channel` (and, when `status` is accepted, taken by the gateway)."""
        citizen, message_id, now = uuid4(), uuid4(), datetime.now(UTC)
        async with transaction(session_factory(self.engine)) as session:
            session.add(
                ContactRow(
                    application_id=citizen,
                    fin="1AB2C3D",
                    mobile_phone="+994501234567",
                    email=email,
                    language="az",
                    district="Xətai",
                )
            )
            session.add(
                NotificationRow(
                    id=message_id,
                    application_id=citizen,
                    event_id=uuid4(),
                    kind="received",
                    context={},
                    status=status,
                    channel=channel,
                    attempts=1,
                    gateway_message_id=f"gw-{message_id}" if status == ACCEPTED else None,
                    occurred_at=now,
                    hold_until=now,
                    next_attempt_at=now,
                    sent_at=now if status == ACCEPTED else None,
                )
            )
        return message_id

    async def statuses(self, ids: list[UUID]) -> list[str]:
        async with self.engine.connect() as connection:
            rows = dict(
                (await connection.execute(select(NOTIFICATIONS.c.id, NOTIFICATIONS.c.status))).all()
            )
        return [rows[i] for i in ids]

    async def events(self) -> int:
        async with self.engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(OUTBOX))).scalar_one()
            )

    def counting(self) -> None:
        self.commits.clear()
        self.statements.clear()


def receipt(
    message_id: UUID, status: str = "delivered", gateway_id: str | None = None
) -> dict[str, str]:
    body = {"reference": str(message_id), "message_id": gateway_id or f"gw-{message_id}"}
    return body | {"status": status} | ({"reason": "unreachable"} if status == "failed" else {})


@pytest.fixture
async def rig(fresh_postgres: str) -> AsyncIterator[Rig]:
    engine = make_engine(fresh_postgres)
    await create_tables(engine, *TABLES, OutboxRow)
    sessions = session_factory(engine)
    relay = OutboxRelay(sessions, Producer(ServiceSettings(), client_id="unused"))
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(receipts_router(sessions, relay, SECRET))
    try:
        async with served(app) as port, httpx.AsyncClient(timeout=30) as client:
            rig = Rig(engine, client, f"http://127.0.0.1:{port}/receipts")
            event.listen(engine.sync_engine, "commit", lambda *_: rig.commits.append(1))
            event.listen(
                engine.sync_engine,
                "before_cursor_execute",
                lambda _c, _cur, statement, *_: rig.statements.append(statement),
            )
            yield rig
    finally:
        await engine.dispose()


async def test_a_batch_is_one_transaction_with_as_many_statements_whatever_its_size(
    rig: Rig,
) -> None:
    ids = [await rig.message() for _ in range(60)]
    rig.counting()
    small = await rig.post([receipt(i) for i in ids[:10]])
    small_statements = list(rig.statements)
    assert (small.status_code, len(rig.commits)) == (200, 1)
    rig.counting()
    large = await rig.post([receipt(i) for i in ids[10:]])
    assert (large.status_code, len(rig.commits)) == (200, 1)
    # Five times the receipts, the same statements: a locked read, the update, the events.
    assert len(rig.statements) == len(small_statements) == 3, rig.statements
    answers = small.json() + large.json()
    assert answers == [
        {"reference": str(i), "notification_id": str(i), "status": SENT} for i in ids
    ]
    assert await rig.statuses(ids) == [SENT] * 60
    assert await rig.events() == 60


async def test_each_receipt_of_a_mixed_batch_gets_its_own_answer(rig: Rig) -> None:
    delivered, moved_on = await rig.message(), await rig.message(email="vetendas@example.az")
    given_up, earlier = await rig.message(channel="egov_inbox"), await rig.message(SENT)
    not_recorded, unknown = await rig.message(PENDING), uuid4()
    batch = [
        receipt(delivered),
        receipt(unknown),
        receipt(moved_on, "failed"),  # the citizen has an e-mail address: that is next
        receipt(not_recorded),
        receipt(given_up, "failed"),  # the inbox is the last channel
        receipt(earlier, "failed"),  # a late receipt contradicting a delivery changes nothing
        receipt(delivered),  # a repeat inside the batch
        receipt(given_up, "delivered", gateway_id="another"),  # not the message sent
    ]
    rig.counting()
    response = await rig.post(batch)
    assert (response.status_code, len(rig.commits)) == (200, 1)
    assert [(a["reference"], a.get("notification_id"), a["status"]) for a in response.json()] == [
        (str(delivered), str(delivered), SENT),
        (str(unknown), None, "unknown"),
        (str(moved_on), str(moved_on), PENDING),
        (str(not_recorded), None, "not_recorded_yet"),
        (str(given_up), str(given_up), FAILED),
        (str(earlier), str(earlier), SENT),
        (str(delivered), str(delivered), SENT),
        (str(given_up), str(given_up), FAILED),
    ]
    ids = [delivered, moved_on, given_up, earlier, not_recorded]
    assert await rig.statuses(ids) == [SENT, PENDING, FAILED, SENT, PENDING]
    assert await rig.events() == 3  # delivered, failed and moved on, failed for good


async def test_a_repeated_batch_changes_nothing(rig: Rig) -> None:
    ids = [await rig.message() for _ in range(3)]
    ids += [await rig.message(channel="egov_inbox") for _ in range(2)]
    batch = [receipt(i) for i in ids[:3]] + [receipt(i, "failed") for i in ids[3:]]
    first = await rig.post(batch)
    events = await rig.events()
    again = await rig.post(batch)
    assert again.json() == first.json()
    assert [a["status"] for a in again.json()] == [SENT] * 3 + [FAILED] * 2
    assert await rig.events() == events == 5


async def test_one_receipt_alone_is_answered_as_before(rig: Rig) -> None:
    accepted, pending = await rig.message(), await rig.message(PENDING)
    taken = await rig.post(receipt(accepted))
    assert taken.status_code == 200
    assert taken.json() == {"notification_id": str(accepted), "status": SENT}
    missing = await rig.post(receipt(uuid4()))
    early = await rig.post(receipt(pending))
    assert (missing.status_code, early.status_code) == (404, 409)
    assert missing.json()["type"].endswith("/unknown-message")
    assert early.json()["type"].endswith("/not-recorded-yet")
    for problem in (missing, early):
        assert problem.headers["content-type"] == "application/problem+json"
    assert await rig.statuses([accepted, pending]) == [SENT, PENDING]


async def test_bad_requests_are_problems(rig: Rig) -> None:
    message = await rig.message()
    malformed = await rig.post({"reference": "nope"})
    malformed_item = await rig.post([receipt(message), {"reference": str(message)}])
    too_many = await rig.post([receipt(message)] * (MAX_RECEIPTS + 1))
    body = json.dumps([receipt(message)]).encode()
    unsigned = await rig.client.post(rig.url, content=body)
    assert [r.status_code for r in (malformed, malformed_item, too_many, unsigned)] == [
        422,
        422,
        413,
        401,
    ]
    fields = {e["field"] for e in malformed_item.json()["errors"]}
    assert fields == {"1.message_id", "1.status"}
    for problem in (malformed, malformed_item, too_many, unsigned):
        assert problem.headers["content-type"] == "application/problem+json"
    assert await rig.statuses([message]) == [ACCEPTED]  # a bad batch applies nothing


async def test_the_gateways_sender_resends_only_what_was_not_recorded_yet(rig: Rig) -> None:
    ready = [await rig.message() for _ in range(30)]
    early = [await rig.message(PENDING) for _ in range(5)]
    sender = ReceiptSender(rig.url, SECRET, delay=0.05)
    rig.counting()
    for message_id in ready + early:
        sender.report({"key": str(message_id), "message_id": f"gw-{message_id}"}, "delivered")
    await asyncio.sleep(0.3)
    # The dispatcher records the gateway's answer for the early ones, late.
    async with rig.engine.begin() as connection:
        await connection.execute(
            update(NOTIFICATIONS)
            .where(col(NOTIFICATIONS.c.id).in_(early))
            .values(status=ACCEPTED, gateway_message_id="gw-" + cast(NOTIFICATIONS.c.id, String))
        )
    for _ in range(100):
        if await rig.statuses(early) == [SENT] * 5:
            break
        await asyncio.sleep(0.1)
    await sender.close()
    assert await rig.statuses(ready + early) == [SENT] * 35
    assert await rig.events() == 35
    # One request for all 35, then a few for the five early ones alone (and the test's update).
    assert 2 <= len(rig.commits) <= 6, len(rig.commits)
