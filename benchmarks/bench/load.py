"""The load's outcome, and `--mode kafka`'s load: applications published on the e-government
topic by a bulk producer, at a fixed rate (a schedule fixed in advance) or as fast as the broker
takes them. The HTTP load is wrk's (benchmarks/bench/wrk.py)."""

import asyncio
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer

from benchmarks.bench.stats import Summary, due_at, submissions_due, summarise
from benchmarks.bench.templates import fin_for, form_templates
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Headers, new_event
from socialsvc_common.contract.payloads import ApplicationForm

TOPIC = topics.EGOV_APPLICATION_SUBMITTED
PER_RECORD = ("ce_id", "ce_time", "ce_subject", "ce_correlationid")
TICK = 0.02  # seconds between the chunks of a fixed rate
CHUNK = 500  # records a chunk when flat out
IN_FLIGHT = 8  # chunks awaiting their acknowledgements when flat out


@dataclass
class LoadResult:
    started: float = 0.0
    ended: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    answer: Summary = field(default_factory=lambda: summarise([]))  # seconds per answer
    behind_seconds: float = 0.0  # how late a submission left against its schedule, at most
    timeouts: int = 0  # wrk's count of answers slower than its timeout (not one per request)

    @property
    def accepted(self) -> int:
        return self.statuses["202"] + self.statuses["published"]

    @property
    def submitted(self) -> int:
        return sum(self.statuses.values())


@dataclass
class Tally:
    """Submissions so far, for the progress line."""

    submitted: int = 0
    accepted: int = 0


class EgovRecords:
    """E-government submissions as the portal publishes them (the form as the value, CloudEvents
    headers, keyed by a new application id), built from templates: a FIN, two ids and a time a
    record, so that building one costs microseconds."""

    def __init__(self, seed: int, salt: str) -> None:
        self._pool = form_templates(seed)
        self._salt = salt
        form = ApplicationForm.model_validate_json(self._pool[0].fill(fin_for(salt, 0, 0)))
        sample = new_event(TOPIC, form, producer="egov-bench", application_id=uuid.uuid4())
        self._static = [(k, v) for k, v in sample.envelope.to_headers() if k not in PER_RECORD]

    def record(self, index: int) -> tuple[bytes, bytes, Headers]:
        """(value, key, headers) of submission number `index`: a FIN and ids of its own."""
        application, event = str(uuid.uuid4()).encode(), str(uuid.uuid4()).encode()
        at = datetime.now(UTC).isoformat().replace("+00:00", "Z").encode()
        headers = [
            *self._static,
            ("ce_id", event),
            ("ce_time", at),
            ("ce_subject", application),
            ("ce_correlationid", event),
        ]
        value = self._pool[index % len(self._pool)].fill(fin_for(self._salt, 0, index))
        return value, application, headers


def settle(
    result: LoadResult,
    tally: Tally,
    answers: list[float],
    sent_at: float,
    chunk: "asyncio.Future[list[Any]]",
) -> None:
    """Counts a chunk's outcomes once all its records are acknowledged (or failed)."""
    if chunk.cancelled():
        return
    elapsed = time.monotonic() - sent_at
    outcomes = chunk.result()
    for outcome in outcomes:
        result.statuses[
            type(outcome).__name__ if isinstance(outcome, BaseException) else "published"
        ] += 1
    tally.accepted = result.accepted
    answers.extend([elapsed] * len(outcomes))


async def publish(
    producer: AIOKafkaProducer, records: EgovRecords, rate: float, duration: float, tally: Tally
) -> LoadResult:
    """Publishes for `duration` seconds at `rate` a second (0: chunks back to back, several in
    flight); records are sent a chunk at a time and their acknowledgements awaited together."""
    result, answers = LoadResult(started=time.time()), list[float]()
    start = time.monotonic()
    total = submissions_due(rate, duration) if rate > 0 else math.inf
    pending: set[asyncio.Future[list[Any]]] = set()
    sent = 0
    # A fixed rate ends when its schedule is sent (late records still go); flat out, at the time.
    while sent < total and ((now := time.monotonic()) < start + duration or rate > 0):
        if rate > 0:
            target = min(int(total), math.floor((now - start) * rate) + 1)
            result.behind_seconds = max(result.behind_seconds, now - due_at(start, rate, sent))
        else:
            while len(pending) >= IN_FLIGHT:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            target = sent + CHUNK
        if target > sent:
            chunk = asyncio.gather(
                *[await send(producer, records, n) for n in range(sent, target)],
                return_exceptions=True,
            )
            chunk.add_done_callback(partial(settle, result, tally, answers, time.monotonic()))
            pending.add(chunk)
            chunk.add_done_callback(pending.discard)
            tally.submitted += target - sent
            sent = target
        if rate > 0:
            await asyncio.sleep(TICK)
    if pending:
        await asyncio.wait(pending)
    result.ended = time.time()
    result.answer = summarise(answers)
    return result


async def send(
    producer: AIOKafkaProducer, records: EgovRecords, index: int
) -> "asyncio.Future[Any]":
    value, key, headers = records.record(index)
    # Returns once the record is in the producer's buffer; the future resolves on the broker's ack.
    future: asyncio.Future[Any] = await producer.send(TOPIC.name, value, key=key, headers=headers)
    return future


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    """The platform's safe producer settings (idempotent, acks=all), with larger batches."""
    settings: dict[str, Any] = {
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
    }
    return AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="bench-egov", **settings)
