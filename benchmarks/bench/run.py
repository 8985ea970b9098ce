"""One benchmark run: the platform under load, drained and read back, then the limit on the
same broker (bare relay, ProducerPerformance), and the targets judged."""

import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from benchmarks.bench.analysis import PlatformFigures, analyse
from benchmarks.bench.collect import KINDS, read_events
from benchmarks.bench.infra import Broker, commits_of
from benchmarks.bench.lag import LagWatch
from benchmarks.bench.load import EgovRecords, LoadResult, Tally, producer_for, publish
from benchmarks.bench.perf import producer_performance
from benchmarks.bench.processes import Platform, Sampler, running
from benchmarks.bench.progress import report_progress
from benchmarks.bench.relay import run_relay
from benchmarks.bench.report import (
    BROKER,
    LOAD_GENERATOR,
    MONITOR,
    commits_per_application,
    cpu_per_application,
    machine,
)
from benchmarks.bench.targets import RunFigures, judge
from benchmarks.bench.templates import ALPHABET
from benchmarks.bench.wrk import WrkLoad, progress_folder, read_progress, run_wrk
from tests.harness import SERVICES, end_offsets

LIMIT = ", limit"  # the broker again, while the relay and ProducerPerformance run
# Fewer records measure the start-up and the pipeline's fill, not its rate.
RELAY_MIN_RECORDS = 20_000
PERF_MIN_RECORDS = 200_000
READ_AGAIN_SECONDS = 5.0
# A gateway's breaker stays open for its cooldown (30 s by default) before messages go again.
STALLED_SECONDS = 60.0


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
    warm_up: float = 0.0  # seconds of load first, not measured


async def load(
    options: Options,
    platform: Platform,
    bootstrap: str,
    token: str,
    *,
    logs: Path,
    sampler: Sampler,
    tally: Tally,
) -> LoadResult:
    """Submits for the run: wrk over HTTP, or the bulk producer on the e-government topic."""
    salt = salt_of(token)  # this run's FINs differ from the last's
    if options.mode == "http":
        wrk = WrkLoad(
            url=platform.urls["intake"],
            api_key=platform.api_key,
            rate=options.rate,
            duration=options.duration,
            connections=options.concurrency,
            salt=salt,
            key_prefix=f"bench-{token}-",
            seed=options.seed,
            headers=options.headers,
        )
        return await run_wrk(wrk, logs, sampler, LOAD_GENERATOR)
    records = EgovRecords(options.seed, salt)
    producer = producer_for(bootstrap)
    await producer.start()
    try:
        return await publish(producer, records, options.rate, options.duration, tally)
    finally:
        await producer.stop()


def salt_of(token: str) -> str:
    return ALPHABET[int(token, 16) % len(ALPHABET)]


def other_token(token: str) -> str:
    """A new token whose FINs cannot meet those of `token`'s (another salt)."""
    return next(t for t in iter(lambda: uuid.uuid4().hex[:8], "") if salt_of(t) != salt_of(token))


async def warm_up(
    options: Options,
    platform: Platform,
    groups: dict[str, str],
    *,
    bootstrap: str,
    token: str,
    logs: Path,
) -> None:
    """A first load of `options.warm_up` seconds, drained and not measured: a broker just started
    spends much of its CPU compiling its own code (at 40/s, 10.8 ms an application on a fresh
    broker, 5.9 on one warmed by a run before), and the services, their connection pools and
    PostgreSQL's statistics warm up with it. Its FINs and keys are of another token than the
    run's, so none of the run's applications meets one of the warm-up's."""
    print(f"bench: warming up for {options.warm_up:g} s (not measured)")
    other = other_token(token)
    folder = logs / "warm-up"
    folder.mkdir(exist_ok=True)
    await load(
        replace(options, duration=options.warm_up),
        platform,
        bootstrap,
        other,
        logs=folder,
        sampler=Sampler(time.time()),
        tally=Tally(),
    )
    stop = asyncio.Event()
    stop.set()
    watch = LagWatch(bootstrap, groups, time.time())
    if not await drain(asyncio.create_task(watch.run(stop)), options.drain_timeout):
        raise RuntimeError(
            f"the warm-up did not drain within {options.drain_timeout:g} s: "
            "a run measured on its backlog would mean nothing; lower the rate"
        )


def usage_of(sampler: Sampler) -> dict[str, dict[str, float]]:
    return {
        name: {
            "cpu_seconds": round(u.cpu_seconds, 2),
            "cpu_percent_mean": sum(s[1] for s in u.samples) / max(len(u.samples), 1),
            "peak_rss_mb": round(u.peak_rss_mb, 1),
        }
        for name, u in sampler.usage.items()
    }


async def drain(lagging: "asyncio.Task[None]", within: float) -> bool:
    """Whether the lag watch saw every group drained within `within` seconds."""
    try:
        await asyncio.wait_for(lagging, within)
    except TimeoutError:
        return False
    return True


async def under_load(
    options: Options,
    platform: Platform,
    groups: dict[str, str],
    start: float,
    *,
    bootstrap: str,
    token: str,
    logs: Path,
    sampler: Sampler,
) -> tuple[LoadResult, LagWatch, bool]:
    """The load, then the wait for the drain, with the lag sampled and progress printed."""
    stop = asyncio.Event()
    lag = LagWatch(bootstrap, groups, start)
    lagging = asyncio.create_task(lag.run(stop))
    tally = Tally()

    def so_far() -> Tally:
        # wrk's progress files trail by up to a second; once it has finished, its summary counts.
        if options.mode == "http" and not stop.is_set():
            return read_progress(progress_folder(logs))
        return tally

    progress = asyncio.create_task(report_progress(start, so_far, lag))
    try:
        result = await load(
            options, platform, bootstrap, token, logs=logs, sampler=sampler, tally=tally
        )
        tally.submitted, tally.accepted = result.submitted, result.accepted
        stop.set()
        drained = await drain(lagging, options.drain_timeout)
    finally:
        progress.cancel()
        lagging.cancel()
    return result, lag, drained


async def platform_phase(
    options: Options, broker: Broker, urls: dict[str, str], logs: Path, sampler: Sampler
) -> tuple[PlatformFigures, LoadResult, LagWatch, bool, dict[str, int]]:
    """The load on the platform and its figures, with PostgreSQL's commit counts as they were
    before it (after start-up and any warm-up)."""
    bootstrap, token = broker.bootstrap, uuid.uuid4().hex[:8]
    groups = {service: f"{service}-bench-{token}" for service in SERVICES}
    async with running(bootstrap, urls, groups, logs, options.log_level) as platform:
        if options.warm_up > 0:
            await warm_up(options, platform, groups, bootstrap=bootstrap, token=token, logs=logs)
        sampler.watch_platform(platform, broker.pid(), BROKER, urls)
        # Over HTTP wrk is the load generator and this process only watches; over Kafka it is both.
        sampler.watch(MONITOR if options.mode == "http" else LOAD_GENERATOR, os.getpid())
        since = await end_offsets(bootstrap, list(KINDS))
        commits_before = await asyncio.to_thread(commits_of, urls)
        start = time.time()
        result, lag, drained = await under_load(
            options,
            platform,
            groups,
            start,
            bootstrap=bootstrap,
            token=token,
            logs=logs,
            sampler=sampler,
        )
        # A run that did not drain is read once: its incomplete applications are its figures.
        figures = await read_back(
            bootstrap,
            since,
            result,
            start,
            until=time.monotonic() + (options.drain_timeout if drained else 0),
        )
        sampler.forget_platform(platform, BROKER)
    return figures, result, lag, drained, commits_before


async def read_back(
    bootstrap: str,
    since: dict[TopicPartition, int],
    result: LoadResult,
    start: float,
    *,
    until: float,
) -> PlatformFigures:
    """The run's figures from its events, read again every few seconds (until `until`,
    monotonic) while some accepted application has not reached its last message: the consumers'
    lag can be gone while notifications still holds messages (a gateway's breaker open after a
    run of failures under load), which it delivers once the breaker closes. The platform's CPU is
    sampled meanwhile: delivering them is part of the run. It stops early once STALLED_SECONDS
    pass without one more application complete (one may never be: a dead-lettered record)."""
    fewest, progressed = None, time.monotonic()
    while True:
        figures = analyse(await read_events(bootstrap, since), result, start)
        now = time.monotonic()
        if fewest is None or figures.incomplete < fewest:
            fewest, progressed = figures.incomplete, now
        if not figures.incomplete or now >= until or now - progressed >= STALLED_SECONDS:
            return figures
        print(
            f"bench: {figures.incomplete} applications not yet at their last message; "
            f"reading again in {READ_AGAIN_SECONDS:g} s",
            flush=True,
        )
        await asyncio.sleep(READ_AGAIN_SECONDS)


async def measure(
    options: Options, broker: Broker, urls: dict[str, str], logs: Path, stamp: str
) -> dict[str, Any]:
    host = machine()  # the load average before the run adds its own
    sampler = Sampler(time.time())
    sampling = asyncio.create_task(sampler.run())
    try:
        figures, result, lag, drained, before = await platform_phase(
            options, broker, urls, logs, sampler
        )
        after = await asyncio.to_thread(commits_of, urls)
        commits = {service: after[service] - before.get(service, 0) for service in after}
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
    cpu = cpu_per_application(processes, figures.completed)
    verdicts = judge(
        RunFigures(
            load_seconds=figures.load_seconds,
            offered_per_second=figures.offered_per_second,
            sustained_per_second=figures.sustained_per_second,
            backlog_growth_per_second=figures.backlog_growth_per_second,
            incomplete=figures.incomplete,
            p99_seconds=figures.latency.p99,
            service_peak_rss_mb={s: processes[s]["peak_rss_mb"] for s in SERVICES},
            service_cpu_ms_per_application=cpu["platform"],
        )
    )
    return {
        "run": {
            "started": stamp,
            "mode": options.mode,
            "rate": options.rate,
            "duration": options.duration,
            "warm_up": options.warm_up,
            "concurrency": options.concurrency,
            "drained": drained,
            "statuses": dict(result.statuses),
            "schedule_behind_seconds": result.behind_seconds,
            "submit_answer_seconds": result.answer.as_dict(),
            "load_timeouts": result.timeouts,
            "machine": host,
        },
        "platform": figures.as_dict(),
        "processes": processes,
        "cpu_ms_per_application": cpu,
        "commits_per_application": commits_per_application(commits, figures.completed),
        "lag": [{"at": round(at, 1), "lag": values} for at, values in lag.samples],
        "relay": relay.as_dict() if relay else None,
        "producer_performance": perf.as_dict() if perf else None,
        "ratio_to_relay": figures.sustained_per_second / relay.per_second if relay else None,
        "targets": [v.as_dict() for v in verdicts],
    }
