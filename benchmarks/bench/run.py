"""One benchmark run: the platform under load, drained and read back, then the limit on the
same broker (bare relay, ProducerPerformance), and the targets judged."""

import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench.analysis import PlatformFigures, analyse
from benchmarks.bench.collect import KINDS, read_events
from benchmarks.bench.forms import FormMaker
from benchmarks.bench.infra import Broker
from benchmarks.bench.lag import INPUTS, LagWatch
from benchmarks.bench.load import LoadResult, drive, http_submitter, kafka_submitter, producer_for
from benchmarks.bench.perf import producer_performance
from benchmarks.bench.processes import Platform, Sampler, start_platform, wait_healthy
from benchmarks.bench.relay import run_relay
from benchmarks.bench.report import machine
from benchmarks.bench.stats import summarise
from benchmarks.bench.targets import RunFigures, judge
from tests.harness import SERVICES, end_offsets, start_group_at_end

BROKER = "kafka broker"
LIMIT = ", limit"  # the broker again, while the relay and ProducerPerformance run
# Fewer records measure the start-up and the pipeline's fill, not its rate.
RELAY_MIN_RECORDS = 20_000
PERF_MIN_RECORDS = 200_000


@dataclass(frozen=True, slots=True)
class Options:
    mode: str  # http | kafka
    rate: float  # per second; 0: as fast as the platform takes them
    duration: float
    concurrency: int
    drain_timeout: float
    relay_records: int | None
    headers: dict[str, str]
    log_level: str
    seed: int
    limit: bool  # measure the bare relay and ProducerPerformance too


async def load(options: Options, platform: Platform, bootstrap: str, token: str) -> LoadResult:
    forms = FormMaker(options.seed)
    if options.mode == "http":
        async with httpx.AsyncClient(
            base_url=platform.urls["intake"],
            timeout=30,
            headers={"Authorization": f"Bearer {platform.api_key}", **options.headers},
            limits=httpx.Limits(max_connections=options.concurrency),
        ) as client:
            submit = http_submitter(client, forms, f"bench-{token}")
            return await drive(submit, options.rate, options.duration, options.concurrency)
    producer = producer_for(bootstrap)
    await producer.start()
    try:
        submit = kafka_submitter(producer, forms)
        return await drive(submit, options.rate, options.duration, options.concurrency)
    finally:
        await producer.stop()


def usage_of(sampler: Sampler) -> dict[str, dict[str, float]]:
    return {
        name: {
            "cpu_seconds": round(u.cpu_seconds, 2),
            "cpu_percent_mean": sum(s[1] for s in u.samples) / max(len(u.samples), 1),
            "peak_rss_mb": round(u.peak_rss_mb, 1),
        }
        for name, u in sampler.usage.items()
    }


async def platform_phase(
    options: Options, broker: Broker, urls: dict[str, str], logs: Path, sampler: Sampler
) -> tuple[PlatformFigures, LoadResult, LagWatch, bool]:
    bootstrap, token = broker.bootstrap, uuid.uuid4().hex[:8]
    groups = {service: f"{service}-bench-{token}" for service in SERVICES}
    for service, group in groups.items():
        await start_group_at_end(bootstrap, group, INPUTS[service])
    platform = start_platform(bootstrap, urls, groups, logs, options.log_level)
    try:
        await wait_healthy(platform)
        for name, process in platform.processes.items():
            sampler.watch(name, process.pid)
        if (pid := broker.pid()) is not None:
            sampler.watch(BROKER, pid)
        sampler.watch("load generator", os.getpid())
        since = await end_offsets(bootstrap, list(KINDS))
        start = time.time()
        stop = asyncio.Event()
        lag = LagWatch(bootstrap, groups, start)
        lagging = asyncio.create_task(lag.run(stop))
        result = await load(options, platform, bootstrap, token)
        stop.set()
        drained = True
        try:
            await asyncio.wait_for(lagging, options.drain_timeout)
        except TimeoutError:
            drained = False
        for name in [*platform.processes, BROKER]:
            sampler.forget(name)
        events = await read_events(bootstrap, since)
    finally:
        platform.stop()
    return analyse(events, result, start), result, lag, drained


async def measure(
    options: Options, broker: Broker, urls: dict[str, str], logs: Path, stamp: str
) -> dict[str, Any]:
    host = machine()  # the load average before the run adds its own
    sampler = Sampler(time.time())
    sampling = asyncio.create_task(sampler.run())
    try:
        figures, result, lag, drained = await platform_phase(options, broker, urls, logs, sampler)
        relay, perf = None, None
        if options.limit:
            count = options.relay_records or max(figures.completed, RELAY_MIN_RECORDS)
            sizes = figures.record_sizes or [1000]
            if (pid := broker.pid()) is not None:
                sampler.watch(BROKER + LIMIT, pid)
            relay = await run_relay(
                broker.bootstrap, sizes, count, logs=logs, sampler=sampler, within=600
            )
            perf = await asyncio.to_thread(
                producer_performance,
                broker.bootstrap,
                max(count, PERF_MIN_RECORDS),
                sum(sizes) // len(sizes),
            )
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
    processes = usage_of(sampler)
    verdicts = judge(
        RunFigures(
            load_seconds=figures.load_seconds,
            offered_per_second=figures.offered_per_second,
            sustained_per_second=figures.sustained_per_second,
            backlog_growth_per_second=figures.backlog_growth_per_second,
            incomplete=figures.incomplete,
            p99_seconds=figures.latency.p99,
            service_peak_rss_mb={s: processes[s]["peak_rss_mb"] for s in SERVICES},
        )
    )
    return {
        "run": {
            "started": stamp,
            "mode": options.mode,
            "rate": options.rate,
            "duration": options.duration,
            "concurrency": options.concurrency,
            "drained": drained,
            "statuses": dict(result.statuses),
            "schedule_behind_seconds": result.behind_seconds,
            "submit_answer_seconds": summarise(result.answer_seconds).as_dict(),
            "machine": host,
        },
        "platform": figures.as_dict(),
        "processes": processes,
        "lag": [{"at": round(at, 1), "lag": values} for at, values in lag.samples],
        "relay": relay.as_dict() if relay else None,
        "producer_performance": perf.as_dict() if perf else None,
        "ratio_to_relay": figures.sustained_per_second / relay.per_second if relay else None,
        "targets": [v.as_dict() for v in verdicts],
    }
