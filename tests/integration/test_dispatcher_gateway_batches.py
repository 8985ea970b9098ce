"""The dispatcher against real PostgreSQL and the real local gateways over HTTP: a batch of SMS
goes in one request, and each message gets its own outcome (delivered, accepted awaiting its
receipt, refused and moved to the next channel); a request that fails as a whole leaves them all
pending with a backoff; with batches turned off each message goes in a request of its own."""

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.channels import EmailGateway, InboxGateway, SmsGateway
from notifications.dispatcher import Dispatcher, Gateways
from notifications.sinks import ReceiptSender, create_inbox_gateway, create_sms_gateway
from notifications.store import ACCEPTED, PENDING, SENT, TABLES, ContactRow, NotificationRow
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.outbox import OutboxRelay, OutboxRow
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables, served
from tests.integration.test_gateway_batches import BATCH, SINGLE, counting

pytestmark = pytest.mark.integration

LOCAL = "127.0.0.1"
BAD_PHONE = "+12"  # the gateway refuses it: the message moves on to the e-gov inbox


async def taking_receipts(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A platform's receipt endpoint that takes every receipt and records nothing, so messages
    answered "accepted" stay so while the test looks at them."""
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"[]"})


@dataclass
class Rig:
    sessions: async_sessionmaker[AsyncSession]
    sms_url: str
    sms_requests: Counter[tuple[str, str]]
    inbox_requests: Counter[tuple[str, str]]
    client: httpx.AsyncClient
    inbox_url: str

    def dispatcher(self, *, batch: bool = True) -> Dispatcher:
        gateways = Gateways(
            SmsGateway(self.sms_url, self.client, batch=batch),
            EmailGateway(LOCAL, 9, "x@example.az"),  # no contact has an e-mail address
            InboxGateway(self.inbox_url, self.client, batch=batch),
        )
        relay = OutboxRelay(self.sessions, Producer(ServiceSettings(), client_id="unused"))
        return Dispatcher(self.sessions, relay, gateways, batch_size=50)

    async def add_citizens(self, phones: list[str]) -> list[UUID]:
        start = datetime.now(UTC) - timedelta(minutes=1)
        ids = []
        async with transaction(self.sessions) as session:
            for n, phone in enumerate(phones):
                citizen, message = uuid4(), uuid4()
                ids.append(message)
                session.add(
                    ContactRow(
                        application_id=citizen,
                        fin=f"{n:07d}",
                        mobile_phone=phone,
                        language="az",
                        district="Xətai",
                    )
                )
                session.add(
                    NotificationRow(
                        id=message,
                        application_id=citizen,
                        event_id=uuid4(),
                        kind="received",
                        context={"district": "Xətai", "provision_type": "home_care"},
                        occurred_at=start + timedelta(milliseconds=n),
                        hold_until=start,
                        # Due as it was made, as the consumer makes them: due() takes the oldest
                        # due first, so the gateway gets them in this order.
                        next_attempt_at=start + timedelta(milliseconds=n),
                    )
                )
        return ids

    async def rows(self, ids: list[UUID]) -> list[NotificationRow]:
        async with self.sessions() as session:
            found = (await session.exec(select(NotificationRow))).all()
        by_id = {row.id: row for row in found}
        return [by_id[i] for i in ids]

    async def events(self) -> Counter[str]:
        async with self.sessions() as session:
            return Counter(row.topic for row in (await session.exec(select(OutboxRow))).all())


@pytest.fixture
async def rig(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[Rig]:
    engine = make_engine(fresh_postgres)
    await create_tables(engine, *TABLES, OutboxRow)
    sms_requests: Counter[tuple[str, str]] = Counter()
    inbox_requests: Counter[tuple[str, str]] = Counter()
    async with AsyncExitStack() as stack:
        platform = await stack.enter_async_context(served(taking_receipts))
        receipts = ReceiptSender(f"http://{LOCAL}:{platform}/receipts", b"secret", delay=0)
        stack.push_async_callback(receipts.close)
        sms = create_sms_gateway(tmp_path / "sms.jsonl", receipts)
        sms_port = await stack.enter_async_context(served(counting(sms, sms_requests)))
        inbox = create_inbox_gateway(tmp_path / "inbox.jsonl")
        inbox_port = await stack.enter_async_context(served(counting(inbox, inbox_requests)))
        client = await stack.enter_async_context(httpx.AsyncClient())
        yield Rig(
            session_factory(engine),
            f"http://{LOCAL}:{sms_port}",
            sms_requests,
            inbox_requests,
            client,
            inbox_url=f"http://{LOCAL}:{inbox_port}",
        )
    await engine.dispose()


async def test_a_batch_of_sms_goes_in_one_request_and_each_gets_its_outcome(rig: Rig) -> None:
    # Two answered "delivered" at once, the rest "accepted" until their receipts come.
    await rig.client.post(f"{rig.sms_url}/control", json={"deliver_next": 2})
    phones = [f"+99450{n:07d}" for n in range(6)]
    phones[3] = BAD_PHONE
    ids = await rig.add_citizens(phones)
    dispatcher = rig.dispatcher()

    assert await dispatcher.dispatch_once() == 6
    assert rig.sms_requests == {BATCH: 1}
    rows = await rig.rows(ids)
    assert [row.status for row in rows] == [SENT, SENT, ACCEPTED, PENDING, ACCEPTED, ACCEPTED]
    assert all(row.gateway_message_id for n, row in enumerate(rows) if n != 3)
    refused = rows[3]
    assert (refused.channel, refused.attempts, refused.gateway_message_id) == (
        "egov_inbox",
        0,
        None,
    )
    assert "422" in (refused.last_error or "")
    assert await rig.events() == {
        "notifications.message.delivered.v1": 2,
        "notifications.message.failed.v1": 1,
    }

    # The refused one goes by the next channel in the next batch.
    assert await dispatcher.dispatch_once() == 1
    assert rig.inbox_requests == {BATCH: 1}
    assert (await rig.rows(ids))[3].status == SENT


async def test_a_failed_request_leaves_the_whole_batch_pending_with_a_backoff(rig: Rig) -> None:
    await rig.client.post(f"{rig.sms_url}/control", json={"fail_next": 1, "fail_status": 503})
    ids = await rig.add_citizens([f"+99451{n:07d}" for n in range(5)])
    before = datetime.now(UTC)

    assert await rig.dispatcher().dispatch_once() == 5
    assert rig.sms_requests == {BATCH: 1}
    for row in await rig.rows(ids):
        assert (row.status, row.channel, row.attempts) == (PENDING, "sms", 1)
        assert row.next_attempt_at >= before
        assert "503" in (row.last_error or "")
    assert await rig.events() == {}


async def test_with_batches_off_each_message_goes_alone(rig: Rig) -> None:
    phones = [f"+99452{n:07d}" for n in range(4)]
    phones[1] = BAD_PHONE
    ids = await rig.add_citizens(phones)
    dispatcher = rig.dispatcher(batch=False)

    assert await dispatcher.dispatch_once() == 4
    assert rig.sms_requests == {SINGLE: 4}
    rows = await rig.rows(ids)
    assert [row.status for row in rows] == [ACCEPTED, PENDING, ACCEPTED, ACCEPTED]
    assert rows[1].channel == "egov_inbox"
    assert await dispatcher.dispatch_once() == 1
    assert rig.inbox_requests == {SINGLE: 1}
