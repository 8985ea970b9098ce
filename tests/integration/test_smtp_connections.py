"""EmailGateway keeps its SMTP connections open between messages, against the real SMTP sink
(aiosmtpd) started in this process: the sink counts the SMTP sessions (one per connection)."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifications.channels import EmailGateway, PermanentDeliveryError
from notifications.sinks import MailSink
from notifications.sinks.smtp_sink import BOUNCE_DOMAIN
from tests.harness import free_port

pytestmark = pytest.mark.integration

LOCAL = "127.0.0.1"
SENDER = "bildiris@sosial.example.az"
TO = "vetendas@example.az"


class CountingSink(MailSink):
    """The mail sink, noting which SMTP session (connection) carried each mail and each QUIT."""

    def __init__(self, store_path: Path) -> None:
        super().__init__(store_path)
        self.sessions: list[int] = []
        self.quits = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.sessions.append(id(session))
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"


@dataclass
class Relay:
    port: int
    sink: CountingSink

    def gateway(self, **options: float) -> EmailGateway:
        return EmailGateway(LOCAL, self.port, SENDER, local_hostname="localhost", **options)


async def relay_with(tmp_path: Path, *, idle_timeout: float = 300) -> AsyncIterator[Relay]:
    sink = CountingSink(tmp_path / "mail.jsonl")
    port = free_port()
    controller = Controller(
        sink, hostname=LOCAL, port=port, server_hostname="localhost", timeout=idle_timeout
    )
    await asyncio.to_thread(controller.start)
    try:
        yield Relay(port, sink)
    finally:
        await asyncio.to_thread(controller.stop)


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[Relay]:
    async for running in relay_with(tmp_path):
        yield running


@pytest.fixture
async def impatient_relay(tmp_path: Path) -> AsyncIterator[Relay]:
    """A relay that drops a connection left idle for 0.3 s, as real relays do after minutes."""
    async for running in relay_with(tmp_path, idle_timeout=0.3):
        yield running


async def send(gateway: EmailGateway, to: str = TO) -> str:
    receipt = await gateway.send(to, "Salam", "Müraciətiniz qəbul edildi.", str(uuid4()))
    return receipt.message_id


async def test_one_connection_carries_many_messages(relay: Relay) -> None:
    gateway = relay.gateway()
    sent = [await send(gateway) for _ in range(6)]
    assert len(set(relay.sink.sessions)) == 1
    assert len(relay.sink.seen) == 6
    assert set(sent) == relay.sink.seen
    await gateway.close()
    await asyncio.sleep(0.1)
    assert relay.sink.quits == 1  # closed politely on stop


async def test_messages_side_by_side_reuse_the_connections_they_opened(relay: Relay) -> None:
    gateway = relay.gateway()
    await asyncio.gather(*(send(gateway) for _ in range(4)))
    opened = len(set(relay.sink.sessions))
    for _ in range(3):
        await asyncio.gather(*(send(gateway) for _ in range(opened)))
    assert len(relay.sink.seen) == 4 + 3 * opened
    # Rounds no wider than what is open find a connection waiting for each of their messages.
    assert len(set(relay.sink.sessions)) == opened
    await gateway.close()


async def test_a_connection_the_relay_dropped_is_replaced(impatient_relay: Relay) -> None:
    gateway = impatient_relay.gateway()
    first = await send(gateway)
    await asyncio.sleep(0.8)  # the relay hangs up on the idle connection meanwhile
    second = await send(gateway)
    third = await send(gateway)
    assert impatient_relay.sink.seen == {first, second, third}
    sessions = impatient_relay.sink.sessions
    assert len(set(sessions)) == 2
    assert sessions[1] == sessions[2]  # and the new one is kept in turn
    await gateway.close()


async def test_a_connection_idle_too_long_is_not_tried(relay: Relay) -> None:
    gateway = relay.gateway(idle_seconds=0.1)
    await send(gateway)
    await asyncio.sleep(0.3)  # the relay would still take it; the gateway does not chance it
    await send(gateway)
    assert len(set(relay.sink.sessions)) == 2
    await gateway.close()


async def test_a_refusal_is_still_permanent_and_the_next_message_goes(relay: Relay) -> None:
    gateway = relay.gateway()
    await send(gateway)
    with pytest.raises(PermanentDeliveryError, match="550"):
        await send(gateway, to=f"yoxdur@{BOUNCE_DOMAIN}")
    await send(gateway)
    assert len(relay.sink.seen) == 2
    await gateway.close()
