"""Prometheus metrics of a service, served at /metrics: what flows in and out, how long it takes,
what fails, how long a bad record holds its partition up, and what waits (outbox, consumer lag).

Labels are topics, partitions, outcomes and error classes: a few dozen values each, never an
application id or anything about a person. Counters and the histogram leave the service to the
scraper's own target labels; the gauges an operations page lays side by side (outbox, lag) carry
`service` as well, so they can be read merged from several scrapes.

The gauges are set when /metrics is scraped (`set_outbox`, `set_lag`), not in the hot path.
"""

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

PROCESSED = "processed"
DUPLICATE = "duplicate"
DEAD_LETTERED = "dead_lettered"
# From a cached inbox hit (~1 ms) to a handler that waits out a slow database.
PROCESSING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
POSITION_TIMEOUT_SECONDS = 1.0


class Metrics:
    """The metric families of one service process, in a registry of its own (so several runtimes
    in one test process do not collide)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages_in = Counter(
            "socialsvc_messages_in",
            "Records consumed, by topic and outcome (processed, duplicate, dead_lettered).",
            ["topic", "outcome"],
            registry=r,
        )
        self.messages_out = Counter(
            "socialsvc_messages_out",
            "Records published (outbox relay and dead letters), by topic.",
            ["topic"],
            registry=r,
        )
        self.processing = Histogram(
            "socialsvc_processing_seconds",
            "Time from receiving a record to its commit or dead letter, retries included.",
            ["topic"],
            buckets=PROCESSING_BUCKETS,
            registry=r,
        )
        self.dead_letter_hold = Histogram(
            "socialsvc_dead_letter_hold_seconds",
            "How long a record that went to the dead-letter topic held its partition up: from "
            "its batch reaching the handler to the dead letter's acknowledgement.",
            ["topic"],
            buckets=PROCESSING_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "socialsvc_errors",
            "Failed attempts at a record, by error class (each retry counts).",
            ["error_class"],
            registry=r,
        )
        self.dead_letters = Counter(
            "socialsvc_dead_letters",
            "Records sent to the dead-letter topic, by original topic and error class.",
            ["topic", "error_class"],
            registry=r,
        )
        self.outbox_age = Gauge(
            "socialsvc_outbox_oldest_unsent_age_seconds",
            "Age of the oldest outbox event not yet published; 0 when all are sent.",
            ["service"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "socialsvc_outbox_unsent_events",
            "Outbox events not yet published.",
            ["service"],
            registry=r,
        )
        self.lag = Gauge(
            "socialsvc_consumer_lag_records",
            "Records on a partition assigned to this process not yet consumed: the high-water "
            "mark minus the consumer's position.",
            ["service", "topic", "partition"],
            registry=r,
        )

    def consumed(self, topic: str, outcome: str, seconds: float) -> None:
        self.messages_in.labels(topic, outcome).inc()
        self.processing.labels(topic).observe(seconds)

    def held_up(self, topic: str, seconds: float) -> None:
        self.dead_letter_hold.labels(topic).observe(seconds)

    def failed(self, error: BaseException) -> None:
        self.errors.labels(type(error).__name__).inc()

    def dead_lettered(self, topic: str, error_class: str, dead_letter_topic: str) -> None:
        self.dead_letters.labels(topic, error_class).inc()
        self.published([dead_letter_topic])

    def published(self, topics: Iterable[str]) -> None:
        for topic in topics:
            self.messages_out.labels(topic).inc()

    def set_outbox(self, unsent: int, oldest: datetime | None) -> None:
        """The outbox gauges, from the count and creation time of the unsent rows."""
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        self.outbox_backlog.labels(self.service).set(unsent)
        self.outbox_age.labels(self.service).set(max(age, 0.0))

    def set_lag(self, lags: dict[TopicPartition, int]) -> None:
        """The lag gauges; partitions move between replicas, so only those given are reported."""
        self.lag.clear()
        for tp, lag in lags.items():
            self.lag.labels(self.service, tp.topic, str(tp.partition)).set(lag)

    def render(self) -> bytes:
        """The Prometheus text exposition of every family."""
        return generate_latest(self.registry)


async def consumer_lag(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """High-water mark minus position for each assigned partition the consumer has fetched from.

    aiokafka advances the position as records are handed to the handler (not as they are
    prefetched), so the record being processed counts as consumed. A partition without a
    high-water mark yet (no fetch answered since assignment) is left out rather than guessed.
    """
    lags: dict[TopicPartition, int] = {}
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        # Unassigned meanwhile (a rebalance), or no position yet: nothing to report for it.
        with contextlib.suppress(IllegalStateError, TimeoutError):
            position = await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_SECONDS)
            lags[tp] = max(highwater - position, 0)
    return lags
