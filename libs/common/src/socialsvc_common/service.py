"""The shell every service shares: database, producer, outbox relay, consumer, broker and HTTP.

Every service has the same shape: `build_runtime` wires the parts, the service registers its event
handlers on `runtime.consumer` and its routes on a FastAPI app whose lifespan is `runtime.lifespan`,
and `serve` runs it under uvicorn until SIGINT/SIGTERM. Shutdown stops consuming first (in-flight
records finish), then the relay, then the producer and the database.
"""

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.apikeys import PEOPLE_AND_SYSTEMS, Role
from socialsvc_common.auth import require
from socialsvc_common.consumer import EventConsumer
from socialsvc_common.contract.topics import DEAD_LETTERS, Topic
from socialsvc_common.db import make_engine, session_factory
from socialsvc_common.edge import EdgeLimits, RateLimit
from socialsvc_common.kafka import (
    Producer,
    keep_raw,
    make_broker,
    records_of,
    subscriber,
    tolerant_batch_headers,
)
from socialsvc_common.kafka_security import client_security
from socialsvc_common.logs import configure_logging
from socialsvc_common.metrics import Metrics, consumer_lag
from socialsvc_common.migrations import Schema, require_head
from socialsvc_common.outbox import OutboxRelay, unsent_backlog
from socialsvc_common.retention import Pruner, Rule, inbox_rule
from socialsvc_common.settings import ServiceSettings

# A batch of this size is applied well within a second. Should it fail and go again record by
# record, up to three tries each (about 0.6 s of backoff for a record that keeps failing), it still
# ends within half of max_poll_interval_ms (300 s), so the consumer keeps its partitions.
BATCH_MAX_RECORDS = 250
BATCH_TIMEOUT_MS = 100
# With a fetch linger (settings.kafka_fetch_linger_ms) the broker answers a fetch once this much
# is waiting, or when the linger ends: about 90 records of 700 bytes.
FETCH_LINGER_MIN_BYTES = 64 * 1024
# aiokafka's defaults: answered as soon as one record is there, else after half a second.
FETCH_NO_LINGER = {"fetch_min_bytes": 1, "fetch_max_wait_ms": 500}
# Inbox claims outlive the longest retention of the topics read by this much.
INBOX_MARGIN = timedelta(days=5)


def batch_options(linger_ms: int) -> dict[str, Any]:
    """How a service's subscriber takes its records: what has arrived is applied in one
    transaction and committed with one offset commit, and `getmany` waits no longer than the
    timeout when there is nothing to take.

    With a fetch linger the broker holds each fetch until 64 KiB wait or the linger ends. Each
    batch's transaction, outbox pass and offset commit, and each fetch the broker answers and the
    client parses (in pure Python, every partition of every topic read), cost about the same
    whatever the number of records, so at a low rate a batch of several records costs little more
    than a batch of one."""
    fetch = (
        FETCH_NO_LINGER
        if linger_ms == 0
        else {"fetch_min_bytes": FETCH_LINGER_MIN_BYTES, "fetch_max_wait_ms": linger_ms}
    )
    return {
        "batch": True,
        "max_records": BATCH_MAX_RECORDS,
        "batch_timeout_ms": BATCH_TIMEOUT_MS,
        **fetch,
    }


class MissingTopicsError(RuntimeError):
    """A topic the service uses does not exist; topics come from the registry (`make topics`)."""


@dataclass
class Runtime:
    """The wired parts of one service process."""

    name: str
    settings: ServiceSettings
    logger: structlog.stdlib.BoundLogger
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    producer: Producer
    relay: OutboxRelay
    consumer: EventConsumer
    broker: KafkaBroker
    metrics: Metrics
    # The service's tables; it starts only on a database at the head of their history.
    schema: Schema | None = None
    # What the service writes (its outbox and dead letters); what it reads is `consumer.topics`.
    publishes: tuple[Topic, ...] = ()
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # Rows of the service's own tables to prune, beside the inbox claims every service prunes.
    retention: list[Rule] = field(default_factory=list)
    # Asked first at shutdown, so background work can finish what it holds (within the grace).
    stopping: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Set the service's own gauges when /metrics is read (e.g. from its database).
    on_scrape: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _tasks: list["asyncio.Task[Any]"] = field(default_factory=list)
    _subscriber: LogicSubscriber[Any] | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Any = None) -> AsyncIterator[None]:
        """Starts the parts in dependency order and stops them in reverse."""
        if self.schema is not None:
            await require_head(self.engine, self.schema)
        await self._check_topics()
        for step in self.on_start:
            await step()
        await self.producer.start()
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.name}-relay"))
        pruner = Pruner(
            self.sessions,
            [inbox_rule(self.inbox_keep()), *self.retention],
            interval_seconds=self.settings.retention_interval_seconds,
        )
        self.stopping.append(pruner.stop)
        self._tasks.append(asyncio.create_task(pruner.run(), name=f"{self.name}-retention"))
        self._tasks += [asyncio.create_task(work()) for work in self.background]
        if self.consumer.topics:
            self._subscribe()
        await self.broker.start()
        for topic in self.consumer.topics:
            self.logger.info("subscribed", topics=[topic.name], group_id=self.group_id)
        freeze_startup_objects()
        self.logger.info("started", service=self.name)
        try:
            yield
        finally:
            await self._shut_down()

    async def _shut_down(self) -> None:
        # Every step is bounded: a step that hangs (a handler stuck on a lock, a gateway that
        # never answers) must not keep the process from exiting. Whatever is cut short is safe
        # to cut: offsets not committed are read again and the inbox skips what was done.
        grace = self.settings.shutdown_grace_seconds
        for ask in self.stopping:
            ask()
        await self._bounded("consumer", self.broker.stop(), grace)
        background = self._tasks[1:]
        if background:
            await asyncio.wait(background, timeout=grace)
        for task in self._tasks:
            task.cancel()
        await self._bounded("background", asyncio.gather(*self._tasks, return_exceptions=True), 5)
        for step in self.on_stop:
            await self._bounded("on_stop", step(), 5)
        await self._bounded("producer", self.producer.stop(), grace)
        await self._bounded("database", self.engine.dispose(), 5)
        self.logger.info("stopped", service=self.name)

    async def _bounded(self, step: str, work: Awaitable[Any], seconds: float) -> None:
        try:
            await asyncio.wait_for(work, seconds)
        except TimeoutError:
            self.logger.warning("shutdown step cut short", step=step, seconds=seconds)

    def inbox_keep(self) -> timedelta:
        """How long an inbox claim is kept: longer than any topic the service reads keeps its
        records, or a redelivered event would find no claim and be applied twice."""
        longest = timedelta(
            milliseconds=max((t.retention_ms for t in self.consumer.topics), default=0)
        )
        days = self.settings.inbox_keep_days
        if days is None:
            return longest + INBOX_MARGIN
        if timedelta(days=days) <= longest:
            raise ValueError(
                f"inbox_keep_days {days:g} must exceed the {longest.days} days the topics "
                f"{self.name} reads keep their records"
            )
        return timedelta(days=days)

    @property
    def group_id(self) -> str:
        return self.settings.kafka_group_id or self.name

    def _subscribe(self) -> None:
        self._subscriber = subscriber(
            self.broker,
            *self.consumer.topics,
            group_id=self.group_id,
            parser=tolerant_batch_headers,
            decoder=keep_raw,
            **batch_options(self.settings.kafka_fetch_linger_ms),
        )

        @self._subscriber
        async def on_records(message: KafkaMessage) -> None:
            await self.consumer.process_batch(records_of(message))

    async def _check_topics(self) -> None:
        wanted = {t.name for t in self.consumer.topics} | {DEAD_LETTERS[self.name].name}
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            **client_security(self.settings),
        )
        await admin.start()
        try:
            missing = sorted(wanted - set(await admin.list_topics()))
        finally:
            await admin.close()
        if missing:
            raise MissingTopicsError(
                f"topics missing: {', '.join(missing)}; run 'make topics' first"
            )

    async def _outbox_gauges(self) -> None:
        self.metrics.set_outbox(*await unsent_backlog(self.sessions))

    async def scrape(self) -> bytes:
        """The service's metrics now, with the outbox and lag gauges read at this moment.

        With the database down the outbox gauges keep their last values: the counters matter
        most during an outage, so the scrape must not fail with it."""
        for gauges in (self._outbox_gauges, *self.on_scrape):
            try:
                await gauges()
            except (SQLAlchemyError, OSError) as error:
                self.logger.warning("database not readable for metrics", error=repr(error))
        kafka = self._subscriber.consumer if self._subscriber is not None else None
        self.metrics.set_lag(await consumer_lag(kafka) if kafka is not None else {})
        return self.metrics.render()

    async def ready(self) -> dict[str, bool]:
        """Whether the database and the broker answer now."""
        checks = {"database": False, "broker": False}
        with contextlib.suppress(Exception):
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = True
        with contextlib.suppress(Exception):
            checks["broker"] = await self.broker.ping(timeout=2.0)
        return checks


def build_runtime(
    name: str,
    settings: ServiceSettings,
    schema: Schema | None = None,
    *,
    publishes: Sequence[Topic] = (),
) -> Runtime:
    """Wires a service: logging, database, producer, outbox relay, consumer and broker.

    `publishes` declares the topics the service writes (its dead-letter topic is added), for its
    AsyncAPI document; the topics it reads are those its handlers register on `consumer`."""
    logger = configure_logging(name, level=settings.log_level, json=settings.log_json)
    engine = make_engine(settings.database)
    sessions = session_factory(engine)
    producer = Producer(settings, client_id=name)
    metrics = Metrics(name)
    relay = OutboxRelay(sessions, producer, metrics=metrics)
    consumer = EventConsumer(
        name, sessions, producer, DEAD_LETTERS[name], relay=relay, metrics=metrics
    )
    broker = make_broker(settings, client_id=name)
    return Runtime(
        name,
        settings,
        logger,
        engine,
        sessions,
        producer,
        relay,
        consumer,
        broker,
        metrics,
        schema,
        (*publishes, DEAD_LETTERS[name]),
    )


def health_router(runtime: Runtime) -> APIRouter:
    """GET /health: 200 when the database and broker answer, 503 naming what does not (open: a
    load balancer asks it); GET /metrics for Prometheus, to monitor and operator keys."""
    router = APIRouter()

    @router.get("/health", tags=["operations"])
    async def health() -> JSONResponse:
        checks = await runtime.ready()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"service": runtime.name, "ready": status == 200, **checks}, status)

    @router.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        dependencies=[require(Role.MONITOR, Role.OPERATOR)],
    )
    async def metrics() -> Response:
        """Prometheus text exposition: messages in and out, processing time, errors, dead
        letters, outbox backlog and age, consumer lag."""
        return Response(await runtime.scrape(), media_type=runtime.metrics.content_type)

    return router


def service_app(
    runtime: Runtime,
    *,
    title: str,
    unlimited_paths: frozenset[str] = frozenset(),
    **fastapi_options: Any,
) -> FastAPI:
    """The FastAPI app of a service with its lifespan, /health and /metrics, behind the limits
    of socialsvc_common.edge (`unlimited_paths`: routes outside the per-client rate).

    Its OpenAPI description is at /openapi.json for any known key (the partners and systems that
    call the service), not to anyone who can reach it; there is no /docs page, whose script and
    style FastAPI takes from a CDN that a ministry's network does not reach (docs/ has the
    services' descriptions)."""
    app = FastAPI(
        title=title,
        lifespan=runtime.lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        **fastapi_options,
    )
    settings = runtime.settings
    rate = settings.http_rate_per_second
    app.add_middleware(
        EdgeLimits,
        max_body_bytes=settings.http_max_body_bytes,
        rate=RateLimit(rate, settings.http_rate_burst, unlimited_paths=unlimited_paths)
        if rate
        else None,
    )
    # Read by the AsyncAPI generator: what the service consumes and publishes.
    app.state.runtime = runtime
    app.include_router(health_router(runtime))

    @app.get("/openapi.json", include_in_schema=False, dependencies=[require(*PEOPLE_AND_SYSTEMS)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    return app


@functools.cache
def freeze_startup_objects() -> None:
    """Takes what start-up made (modules, models, compiled statements: alive as long as the
    process) out of the garbage collector's view, so a full collection walks only what work made
    since, and lets the youngest generation grow to 10,000 objects before a collection (700 by
    default: hundreds of collections a second under load, each promoting a batch's objects that
    were about to die anyway).

    Measured in notifications at 100 applications a second: full collections had held the event
    loop for 0.2-0.4 s twice every five seconds, and collections took 6% of its time in all;
    after, the longest pause is about 50 ms and collections take 3%.

    Once a process (cached): a later runtime in the same process (tests start several) must not
    freeze the garbage of those before it, which would then never be collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 10)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Runs the app on 127.0.0.1 (by default) until SIGINT/SIGTERM, with our logging."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
