"""`python -m benchmarks.idle`: what the platform costs with nothing to do.

Starts the bench's broker, fresh databases and the four services with the gateway stand-ins (as
`make bench` does), waits until they are healthy and a further settling time, then measures for
`--seconds` with no load at all: CPU per process (and the broker's, and the whole local
PostgreSQL server's) as a share of a core, and PostgreSQL commits per second in each service's
database. Every service polls for work it may have been sent (the consumer's fetches, the outbox
relay, the dispatcher, the sweepers); this is the price of that, paid at every rate.
"""

import argparse
import asyncio
import logging
import os
import sys
import time
from datetime import UTC, datetime

from benchmarks.bench.__main__ import DEFAULT_DATABASE
from benchmarks.bench.infra import ROOT, commits_of, prepared
from benchmarks.bench.processes import Sampler, running
from benchmarks.bench.report import BROKER
from tests.harness import SERVICES


async def measure(seconds: float, settle: float, database_url: str) -> dict[str, float]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = ROOT / "var" / "bench" / f"idle-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    async with prepared(None, database_url) as (broker, urls):
        groups = {service: f"{service}-idle-{stamp.lower()}" for service in SERVICES}
        async with running(broker.bootstrap, urls, groups, logs, "INFO") as platform:
            await asyncio.sleep(settle)
            sampler = Sampler(time.time())
            sampler.watch_platform(platform, broker.pid(), BROKER, urls)
            before = await asyncio.to_thread(commits_of, urls)
            await asyncio.sleep(seconds)
            sampler.forget_platform(platform, BROKER)
            after = await asyncio.to_thread(commits_of, urls)
    figures = {
        f"{name} cpu %": round(100 * usage.cpu_seconds / seconds, 1)
        for name, usage in sampler.usage.items()
    }
    figures |= {
        f"{service} commits/s": round((after[service] - before[service]) / seconds, 1)
        for service in SERVICES
    }
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.idle", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to measure (30)")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="wait after start-up before measuring (10)"
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    )
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    figures = asyncio.run(measure(args.seconds, args.settle, args.database_url))
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:>6}")
    services = sum(v for k, v in figures.items() if k.split()[0] in SERVICES and "cpu" in k)
    print(f"{'four services cpu %':<{width}}  {round(services, 1):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
