"""A message's outcome names its language and kind on the broker, for the ministry's figures by
channel and language: the dispatcher against real PostgreSQL and the local gateways over HTTP,
its outbox relayed to the real Kafka. One message is delivered at once; another is refused by
SMS and then by the e-gov inbox, so it fails twice, the second time for good."""

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.channels import EmailGateway, InboxGateway, SmsGateway
from notifications.dispatcher import Dispatcher, Gateways
from notifications.sinks import create_inbox_gateway, create_sms_gateway
from notifications.store import TABLES, ContactRow, NotificationRow
from socialsvc_common.contract import topics
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.outbox import OutboxRelay, OutboxRow
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables, records_since, served

pytestmark = pytest.mark.integration

LOCAL = "127.0.0.1"
BAD_PHONE = "+12"  # the SMS gateway refuses it: the message moves on to the e-gov inbox


@dataclass
class Rig:
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    relay: OutboxRelay
    inbox_url: str
    client: httpx.AsyncClient

    async def add(self, language: str, phone: str, kind: str, context: dict[str, Any]) -> UUID:
        """A citizen with no e-mail address (SMS, then the e-gov inbox) and one message due."""
        citizen, message = uuid4(), uuid4()
        due = datetime.now(UTC) - timedelta(minutes=1)
        async with transaction(self.sessions) as session:
            session.add(
                ContactRow(
                    application_id=citizen,
                    fin="7QX9K2M",
                    mobile_phone=phone,
                    language=language,
                    district="Xətai",
                )
            )
            session.add(
                NotificationRow(
                    id=message,
                    application_id=citizen,
                    event_id=uuid4(),
                    kind=kind,
                    context=context,
                    occurred_at=due,
                    hold_until=due,
                    next_attempt_at=due,
                )
            )
        return message


@pytest.fixture
async def rig(
    bootstrap: str, fresh_postgres: str, tmp_path: Path, unique: Callable[[str], str]
) -> AsyncIterator[Rig]:
    engine = make_engine(fresh_postgres)
    await create_tables(engine, *TABLES, OutboxRow)
    sessions = session_factory(engine)
    producer = Producer(
        ServiceSettings(kafka_bootstrap_servers=[bootstrap]), client_id=unique("outcomes")
    )
    relay = OutboxRelay(sessions, producer)
    async with AsyncExitStack() as stack:
        # Without a receipt sender the SMS gateway answers "delivered" at once.
        sms_port = await stack.enter_async_context(served(create_sms_gateway(tmp_path / "s")))
        inbox_port = await stack.enter_async_context(served(create_inbox_gateway(tmp_path / "i")))
        client = await stack.enter_async_context(httpx.AsyncClient())
        gateways = Gateways(
            SmsGateway(f"http://{LOCAL}:{sms_port}", client, batch=False),
            EmailGateway(LOCAL, 9, "x@example.az"),  # no contact has an e-mail address
            InboxGateway(f"http://{LOCAL}:{inbox_port}", client, batch=False),
        )
        dispatcher = Dispatcher(sessions, relay, gateways, batch_size=50)
        yield Rig(sessions, dispatcher, relay, f"http://{LOCAL}:{inbox_port}", client)
    await producer.stop()
    await engine.dispose()


async def published(
    bootstrap: str, topic: topics.Topic, since_ms: int, ids: set[UUID]
) -> list[dict[str, Any]]:
    found = [json.loads(r.value) for r in await records_since(bootstrap, topic.name, since_ms)]
    return [value for value in found if UUID(value["notification_id"]) in ids]


async def test_delivered_and_failed_messages_name_their_language_and_kind(
    rig: Rig, bootstrap: str
) -> None:
    since_ms = int(time.time() * 1000) - 1000
    told = await rig.add(
        "ru", "+994501112233", "decision_eligible", {"provision_types": ["home_care"]}
    )
    refused = await rig.add("en", BAD_PHONE, "received", {})
    answer = await rig.client.post(
        f"{rig.inbox_url}/control", json={"fail_next": 1, "fail_status": 410}
    )
    assert answer.status_code == 200, answer.text

    assert await rig.dispatcher.dispatch_once() == 2  # one delivered, one refused by SMS
    assert await rig.dispatcher.dispatch_once() == 1  # the refused one, refused by the inbox
    assert await rig.relay.relay_once() == 3

    [delivered] = await published(bootstrap, topics.NOTIFICATION_DELIVERED, since_ms, {told})
    assert (delivered["channel"], delivered["language"], delivered["message_kind"]) == (
        "sms",
        "ru",
        "decision_eligible",
    )
    failures = await published(bootstrap, topics.NOTIFICATION_FAILED, since_ms, {told, refused})
    assert [(f["channel"], f["final"], f["language"], f["message_kind"]) for f in failures] == [
        ("sms", False, "en", "received"),
        ("egov_inbox", True, "en", "received"),
    ]
