"""The dispatcher sends a batch side by side, yet one citizen's messages strictly in turn, when
its SMS gateway takes one message to a request; under a backlog several batches are in hand at
once, a quiet dispatcher asks the database for due messages once a second, not once a worker, and
a batch's changed rows are written in one statement."""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.channels import EmailGateway, GatewayReceipt, InboxGateway, SmsGateway
from notifications.dispatcher import CONCURRENCY, WORKERS, Dispatcher, Gateways
from notifications.store import SENT, TABLES, ContactRow, NotificationRow
from socialsvc_common.db import make_engine, session_factory, transaction, write_changes
from socialsvc_common.kafka import Producer
from socialsvc_common.outbox import OutboxRelay, OutboxRow
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables
from tests.integration.test_gateway_gauges import message

HELD = 0.2
UNUSED = "http://127.0.0.1:9"
# Due since a minute ago.
START = datetime.now(UTC) - timedelta(minutes=1)


class RecordingSms(SmsGateway):
    """An SMS gateway that holds each answer a while and notes what was in flight meanwhile."""

    def __init__(self, phones: dict[str, UUID], client: httpx.AsyncClient) -> None:
        super().__init__(UNUSED, client, batch=False)
        self._phones = phones
        self.in_flight: Counter[UUID] = Counter()
        self.most_in_flight = 0
        self.overlapping_for_one_citizen = 0
        self.sent: list[tuple[UUID, str]] = []

    async def send(self, to: str, text: str, idempotency_key: str) -> GatewayReceipt:
        citizen = self._phones[to]
        self.in_flight[citizen] += 1
        self.overlapping_for_one_citizen += self.in_flight[citizen] > 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight.total())
        await asyncio.sleep(HELD)
        self.in_flight[citizen] -= 1
        self.sent.append((citizen, idempotency_key))
        return GatewayReceipt(message_id=f"sms-{idempotency_key}", status="delivered")


class HoldingSms(RecordingSms):
    """Holds the first message it is sent until a second one arrives (at most five seconds)."""

    def __init__(self, phones: dict[str, UUID], client: httpx.AsyncClient) -> None:
        super().__init__(phones, client)
        self._second = asyncio.Event()

    async def send(self, to: str, text: str, idempotency_key: str) -> GatewayReceipt:
        citizen = self._phones[to]
        self.in_flight[citizen] += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight.total())
        if self.most_in_flight == 1:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._second.wait(), timeout=5)
        self._second.set()
        self.in_flight[citizen] -= 1
        self.sent.append((citizen, idempotency_key))
        return GatewayReceipt(message_id=f"sms-{idempotency_key}", status="delivered")


def add_citizen(session: AsyncSession, citizen: UUID, phone: str, *kinds: str) -> list[UUID]:
    """A citizen reachable by SMS with a message of each kind due (received by default), all of
    the same moment; their ids."""
    session.add(
        ContactRow(
            application_id=citizen,
            fin=phone[-7:],
            mobile_phone=phone,
            language="az",
            district="Xətai",
        )
    )
    rows = [message(citizen, START, kind) for kind in kinds or ("received",)]
    session.add_all(rows)
    return [row.id for row in rows]


@pytest.fixture
async def engine(fresh_postgres: str) -> AsyncIterator[AsyncEngine]:
    made = make_engine(fresh_postgres)
    await create_tables(made, *TABLES, OutboxRow)
    yield made
    await made.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as made:
        yield made


def dispatcher_for(
    sessions: async_sessionmaker[AsyncSession],
    sms: SmsGateway,
    client: httpx.AsyncClient,
    *,
    batch_size: int,
    concurrency: int = CONCURRENCY,
    workers: int = WORKERS,
) -> Dispatcher:
    """A dispatcher whose every message goes by `sms` (no contact has an e-mail address or
    prefers the inbox)."""
    gateways = Gateways(
        sms, EmailGateway("127.0.0.1", 9, "x@example.az"), InboxGateway(UNUSED, client)
    )
    relay = OutboxRelay(sessions, Producer(ServiceSettings(), client_id="unused"))
    return Dispatcher(
        sessions, relay, gateways, batch_size=batch_size, concurrency=concurrency, workers=workers
    )


async def test_a_batch_goes_out_side_by_side_and_each_citizen_in_order(
    sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    phones: dict[str, UUID] = {}
    messages: dict[UUID, list[UUID]] = {}
    async with transaction(sessions) as session:
        for n in range(12):
            phones[f"+99450{n:07d}"] = citizen = uuid4()
            # Two messages of the same moment for some citizens: due() offers both in one batch.
            kinds = ("received", "placement_waitlisted")[: 2 if n % 3 == 0 else 1]
            messages[citizen] = add_citizen(session, citizen, f"+99450{n:07d}", *kinds)
    sms = RecordingSms(phones, client)
    dispatcher = dispatcher_for(sessions, sms, client, batch_size=50, concurrency=8)
    assert await dispatcher.dispatch_once() == 16
    async with sessions() as session:
        rows = (await session.exec(select(NotificationRow))).all()
        delivered_events = (await session.exec(select(OutboxRow))).all()

    assert {row.status for row in rows} == {SENT}
    assert len(delivered_events) == 16
    assert sms.most_in_flight == 8  # side by side, up to the limit
    assert sms.overlapping_for_one_citizen == 0
    sent_order: dict[UUID, list[str]] = {}
    for citizen, key in sms.sent:
        sent_order.setdefault(citizen, []).append(key)
    # Messages of the same moment go in the order due() gives them: by time, then by id.
    assert sent_order == {citizen: sorted(map(str, ids)) for citizen, ids in messages.items()}


async def test_helpers_join_in_only_while_there_is_a_backlog(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    phones: dict[str, UUID] = {}
    async with transaction(sessions) as session:
        for n in range(120):
            phones[f"+99451{n:07d}"] = citizen = uuid4()
            add_citizen(session, citizen, f"+99451{n:07d}")
    looked: list[float] = []

    def count_looks(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "SKIP LOCKED" in statement:
            looked.append(asyncio.get_running_loop().time())

    event.listen(engine.sync_engine, "before_cursor_execute", count_looks)
    sms = RecordingSms(phones, client)
    dispatcher = dispatcher_for(sessions, sms, client, batch_size=20, concurrency=200, workers=4)
    running = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(30):
            while len(sms.sent) < 120:
                await asyncio.sleep(0.05)
        # Quiet now: three seconds with nothing due.
        while not dispatcher.at_rest:
            await asyncio.sleep(0.05)
        quiet_from = asyncio.get_running_loop().time()
        await asyncio.sleep(3.0)
        quiet_looks = sum(at >= quiet_from for at in looked)
    finally:
        dispatcher.stop()
        await running

    # A batch is 20 messages, all with the gateway at once: more than 20 in flight means several
    # batches were in hand together.
    assert sms.most_in_flight > 20
    assert sorted(citizen for citizen, _ in sms.sent) == sorted(phones.values())
    assert 2 <= quiet_looks <= 4  # once a second (four loops polling would make about twelve)


async def test_a_message_due_while_the_loop_is_in_a_batch_goes_out_beside_it(
    sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    phones = {f"+99452{n:07d}": uuid4() for n in range(2)}

    async def store(phone: str) -> None:
        async with transaction(sessions) as session:
            add_citizen(session, phones[phone], phone)

    first, second = phones
    await store(first)
    sms = HoldingSms(phones, client)
    dispatcher = dispatcher_for(sessions, sms, client, batch_size=50, workers=2)
    running = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(10):
            while not sms.in_flight.total():
                await asyncio.sleep(0.01)
            # The first message is at the gateway until the second arrives there (or 5 s pass).
            await store(second)
            dispatcher.wake()
            while len(sms.sent) < 2:
                await asyncio.sleep(0.01)
    finally:
        dispatcher.stop()
        await running

    assert sms.most_in_flight == 2  # the second went while the first was still at the gateway
    assert sms.sent[0][0] == phones[second]  # and was answered first, letting the first go


async def test_write_changes_writes_what_changed_in_one_statement(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    citizens = [uuid4() for _ in range(3)]
    async with transaction(sessions) as session:
        for n, citizen in enumerate(citizens):
            add_citizen(session, citizen, f"+99453{n:07d}")
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    async with transaction(sessions) as session:
        rows = {
            row.application_id: row for row in (await session.exec(select(NotificationRow))).all()
        }
        first, second, untouched = (rows[citizen] for citizen in citizens)
        first.status, first.segments, first.attempts = SENT, 2, 1
        second.kind, second.last_error = "placement_made", "none yet"
        await write_changes(session, list(rows.values()))
    async with sessions() as session:
        stored = {
            row.application_id: (row.status, row.segments, row.attempts, row.kind, row.last_error)
            for row in (await session.exec(select(NotificationRow))).all()
        }

    assert stored == {
        citizens[0]: (SENT, 2, 1, "received", None),
        citizens[1]: ("pending", None, 0, "placement_made", "none yet"),
        citizens[2]: ("pending", None, 0, "received", None),
    }
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1  # both changed rows at once, the untouched one not at all
    assert untouched.status == "pending"
