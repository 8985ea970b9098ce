"""The load: applications submitted over intake's HTTP API or published on the e-government
topic, at a fixed rate (a schedule fixed in advance) or as fast as the system takes them."""

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from benchmarks.bench.forms import FormMaker
from benchmarks.bench.stats import due_at
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.payloads import ApplicationForm


@dataclass
class LoadResult:
    started: float = 0.0
    ended: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    answer_seconds: list[float] = field(default_factory=list)
    behind_seconds: float = 0.0  # how late the last submission left against its schedule

    @property
    def accepted(self) -> int:
        return self.statuses["202"] + self.statuses["published"]

    @property
    def submitted(self) -> int:
        return sum(self.statuses.values())


Submit = Callable[[int], Awaitable[str]]


async def drive(submit: Submit, rate: float, duration: float, concurrency: int) -> LoadResult:
    """Calls `submit(n)` on the schedule of `rate` per second (0: as fast as `concurrency`
    workers go) for `duration` seconds; records each outcome and how long it took."""
    result = LoadResult(started=time.time())
    start = time.monotonic()
    end = start + duration
    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int) -> None:
        began = time.monotonic()
        try:
            outcome = await submit(index)
        except (httpx.HTTPError, OSError) as error:
            outcome = type(error).__name__
        finally:
            slots.release()
        result.statuses[outcome] += 1
        result.answer_seconds.append(time.monotonic() - began)

    index = 0
    while (now := time.monotonic()) < end:
        if rate > 0:
            due = due_at(start, rate, index)
            if due >= end:
                break
            if due > now:
                await asyncio.sleep(due - now)
            result.behind_seconds = max(0.0, time.monotonic() - due)
        await slots.acquire()
        task = asyncio.create_task(one(index))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        index += 1
    await asyncio.gather(*tasks)
    result.ended = time.time()
    return result


def http_submitter(client: httpx.AsyncClient, forms: FormMaker, run: str) -> Submit:
    async def submit(index: int) -> str:
        response = await client.post(
            "/applications", json=forms.form(index), headers={"Idempotency-Key": f"{run}-{index}"}
        )
        return str(response.status_code)

    return submit


def kafka_submitter(producer: AIOKafkaProducer, forms: FormMaker) -> Submit:
    """Publishes as the e-government portal does: the form as the value, CloudEvents headers,
    keyed by a new application id; the event id is the submission's idempotency key."""

    async def submit(index: int) -> str:
        form = ApplicationForm.model_validate(forms.form(index))
        event = new_event(
            topics.EGOV_APPLICATION_SUBMITTED,
            form,
            producer="egov-bench",
            application_id=uuid.uuid4(),
        )
        await producer.send_and_wait(
            topics.EGOV_APPLICATION_SUBMITTED.name,
            event.value(),
            key=event.key,
            headers=event.envelope.to_headers(),
        )
        return "published"

    return submit


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    # The platform's own producer settings: idempotent, every replica acknowledges.
    settings: dict[str, Any] = {"enable_idempotence": True, "acks": "all", "linger_ms": 5}
    return AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="bench-egov", **settings)
