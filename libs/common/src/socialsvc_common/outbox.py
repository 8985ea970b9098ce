"""The transactional outbox: events are rows written with the state change, published by a relay.

A service never writes its database and then publishes (a dual write). It adds its outgoing events
to the same transaction as the change (`add_events`, one statement for all of them); the
`OutboxRelay` publishes unsent rows in id order and deletes them once the broker has them all (one
statement per batch), so the table holds only what is still to be sent. A crash between publish
and delete republishes the rows: consumers drop the repeat by event id (the inbox), so the effect
is exactly once.

A public application record (socialsvc_common.public_stream) is published with its envelope's
coarse time as its Kafka record time, not the moment the relay sends it.

On PostgreSQL one relay per database publishes at a time (a transaction-level advisory lock), so
replicas of a service cannot reorder the events of one application.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    bindparam,
    delete,
    func,
    text,
)
from sqlalchemy import insert as sql_insert
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.sql.dml import Delete
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.contract.envelope import Event
from socialsvc_common.db import (
    UtcDateTime,
    among,
    driver_sql,
    driver_transaction,
    on_asyncpg,
    run,
    transaction,
)
from socialsvc_common.kafka import DELIVERY_TIMEOUT_SECONDS, Producer
from socialsvc_common.metrics import Metrics
from socialsvc_common.public_stream import COARSE_TIME_TOPICS
from socialsvc_common.worker import Worker

# Any constant works: every service has a database of its own.
RELAY_LOCK_KEY = 7_160_021


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unsent",
            "id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    event_id: UUID = Field(unique=True)
    topic: str
    key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: str = Field(sa_column=Column(Text, nullable=False))
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # Sent rows are deleted, so this stays empty; it is kept (and the relay still reads only rows
    # without it) because databases written before issue 15 hold their sent rows with it set.
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]


async def add_events(session: AsyncSession, events: Iterable[Event]) -> None:
    """Adds events to the caller's transaction in one statement; they are published only if it
    commits, in the order given."""
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": event.envelope.event_id,
            "topic": event.topic.name,
            "key": event.key,
            "headers": json.dumps([[k, v.decode()] for k, v in event.envelope.to_headers()]),
            "value": event.value(),
            "created_at": now,
        }
        for event in events
    ]
    if rows:
        await run(session, sql_insert(OUTBOX), rows)


def record_time_ms(topic: str, headers: list[list[str]]) -> int | None:
    """The Kafka record time of an outbox row: on a coarse-time (public) topic its envelope's
    time, already cut to the disclosure policy's unit; elsewhere None, the producer's clock."""
    if topic not in COARSE_TIME_TOPICS:
        return None
    at = dict(headers).get("ce_time")
    return None if at is None else int(datetime.fromisoformat(at).timestamp() * 1000)


UNSENT = (
    sql_select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.value, OUTBOX.c.headers)
    .where(OUTBOX.c.sent_at.is_(None))
    .order_by(OUTBOX.c.id)
    .limit(bindparam("limit"))
)
LEAD = sql_select(func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY))


def cleared(ids: Sequence[int]) -> Delete:
    return delete(OUTBOX).where(among(OUTBOX.c.id, ids))


class OutboxRelay(Worker):
    """Publishes unsent outbox rows in order; `wake()` after a commit makes it look at once.

    Its pass (lead, read, publish, clear) is one transaction. On asyncpg it runs on the driver's
    connection (`driver_transaction`): at two rows a pass that is 0.8 ms of CPU instead of 2.0,
    and every committed batch of every service makes a pass."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: Producer,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.5,
        max_backoff_seconds: float = 10.0,
        publish_timeout_seconds: float = DELIVERY_TIMEOUT_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(
            "outbox", idle_seconds=idle_seconds, max_backoff_seconds=max_backoff_seconds
        )
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._producer = producer
        self._batch_size = batch_size
        self._publish_timeout = publish_timeout_seconds
        self._metrics = metrics or Metrics("outbox")
        self._on_driver = on_asyncpg(self._engine)
        # One relay leads at a time on PostgreSQL; SQLite has a single writer anyway.
        self._takes_lock = self._engine.dialect.name == "postgresql"
        self._lead, self._unsent, self._clear = (
            driver_sql(statement, self._engine.dialect) if self._on_driver else ""
            for statement in (LEAD, UNSENT, cleared([]))
        )

    async def step(self) -> bool:
        return await self.relay_once() == self._batch_size

    async def relay_once(self) -> int:
        """Publishes one batch of unsent rows and clears them; returns how many."""
        if self._on_driver:
            async with driver_transaction(self._engine) as driver:
                if not await driver.fetchval(self._lead, RELAY_LOCK_KEY):
                    return 0
                rows = await driver.fetch(self._unsent, self._batch_size)
                if rows:
                    await self._publish(rows)
                    await driver.execute(self._clear, [row[0] for row in rows])
        else:
            async with transaction(self._sessions) as session:
                if self._takes_lock and not (await run(session, LEAD)).scalar():
                    return 0
                rows = (await run(session, UNSENT, {"limit": self._batch_size})).all()
                if rows:
                    await self._publish(rows)
                    await run(session, cleared([row[0] for row in rows]))
        self._metrics.published(row[1] for row in rows)
        return len(rows)

    async def _publish(self, rows: Sequence[Sequence[Any]]) -> None:
        """Sends rows of (id, topic, key, value, headers) in their order and returns once the
        broker has every one of them."""
        headers = [json.loads(row[4]) for row in rows]
        await self._producer.deliver(
            [
                (row[1], row[2], row[3], [(k, v.encode()) for k, v in pairs])
                for row, pairs in zip(rows, headers, strict=True)
            ],
            within_seconds=self._publish_timeout,
            timestamps_ms=[
                record_time_ms(row[1], pairs) for row, pairs in zip(rows, headers, strict=True)
            ],
        )


async def unsent_backlog(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, datetime | None]:
    """How many outbox rows are unsent, and when the oldest of them was written."""
    async with sessions() as session:
        query = select(func.count(), func.min(OutboxRow.created_at)).where(
            OutboxRow.sent_at.is_(None)  # type: ignore[union-attr]
        )
        count, oldest = (await session.exec(query)).one()
    return int(count), oldest
