"""The process shell every service shares: logging, the FastStream app, signals, start-up checks.

A service's composition root builds its broker and subscribers, then hands them to `make_app`;
`run` drives the app until SIGINT or SIGTERM, draining in-flight messages within the grace period.
"""

import asyncio
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient
from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber

from socialsvc_common.contract.topics import Topic
from socialsvc_common.kafka import make_broker, record_of, subscriber
from socialsvc_common.logs import configure_logging
from socialsvc_common.settings import ServiceSettings


class MissingTopicsError(RuntimeError):
    """A subscribed topic does not exist; topics come from the registry (`make topics`)."""


def _subscribers(broker: KafkaBroker) -> list[LogicSubscriber[Any]]:
    return [sub for sub in broker.subscribers if isinstance(sub, LogicSubscriber)]


async def check_topics_exist(settings: ServiceSettings, broker: KafkaBroker) -> None:
    """Fails start-up with the missing topic names instead of consuming from nothing."""
    wanted = {name for sub in _subscribers(broker) for name in sub.topic_names}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        present = set(await admin.list_topics())
    finally:
        await admin.close()
    missing = sorted(wanted - present)
    if missing:
        raise MissingTopicsError(
            f"topics missing on the broker: {', '.join(missing)}; run 'make topics' first"
        )


def make_app(
    name: str, settings: ServiceSettings, broker: KafkaBroker, logger: structlog.stdlib.BoundLogger
) -> FastStream:
    """A FastStream app that checks its topics before start and says what it subscribed to."""
    app = FastStream(broker, logger=logger)

    @app.on_startup
    async def _topics_exist() -> None:
        await check_topics_exist(settings, broker)

    @app.after_startup
    async def _announce() -> None:
        for sub in _subscribers(broker):
            logger.info("subscribed", topics=sorted(sub.topic_names), group_id=sub.group_id)
        logger.info("started", service=name)

    @app.after_shutdown
    async def _farewell() -> None:
        logger.info("stopped", service=name)

    return app


def listening_app(name: str, settings: ServiceSettings, *topics: Topic) -> FastStream:
    """A service that consumes its input topics in its own group and logs where each record was.

    The first stage of every service: it proves the process, the broker and the group work before
    the service has business logic. It logs no payload, so no personal data.
    """
    logger = configure_logging(name, level=settings.log_level, json=settings.log_json)
    broker = make_broker(settings, client_id=name)

    @subscriber(broker, *topics, group_id=name)
    async def on_record(message: KafkaMessage) -> None:
        record = record_of(message)
        logger.info(
            "record received", topic=record.topic, partition=record.partition, offset=record.offset
        )

    return make_app(name, settings, broker, logger)


def run(app: FastStream) -> None:
    """Runs the app in this process until SIGINT/SIGTERM."""
    asyncio.run(app.run())
