"""`make bench` (python -m benchmarks.bench): applications through the whole platform on real
Kafka and PostgreSQL, next to the limit of the same broker, with PASS/FAIL per target.

Starts its own broker (kafkactl's `bench` deployment, 127.0.0.1:9292) unless one runs there or
--bootstrap names another, makes fresh PostgreSQL databases (dropped afterwards), runs the four
services and the local sinks as processes, submits for --duration seconds at --rate per second,
waits for the drain, reads every event back and measures from the events' ce_time. Results go to
benchmarks/results/<time>.json and .png; logs to var/bench/<time>/.
"""

import argparse
import asyncio
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench.chart import draw
from benchmarks.bench.infra import ROOT, prepared
from benchmarks.bench.report import save, table
from benchmarks.bench.run import Options, measure

DEFAULT_DATABASE = "postgresql+asyncpg://socialsvc:socialsvc@127.0.0.1:25432/socialsvc_test"


def header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--mode",
        choices=("http", "kafka"),
        default="http",
        help="submit over intake's HTTP API or the e-government topic",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="applications per second; 0 for as fast as they are taken",
    )
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="wrk's connections: submissions in flight"
    )
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--warm-up",
        type=float,
        default=0.0,
        help="seconds of load at the same rate before the measured run, drained and not measured "
        "(a fresh broker spends much of its CPU compiling itself in its first minute)",
    )
    parser.add_argument(
        "--relay-records",
        type=int,
        default=None,
        help="records through the bare relay (default: as many as completed)",
    )
    parser.add_argument(
        "--no-limit", action="store_true", help="skip the bare relay and ProducerPerformance"
    )
    parser.add_argument("--bootstrap", default=None, help="an existing broker instead of 9292")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE),
        help="a database of a role that may create databases",
    )
    parser.add_argument(
        "--header",
        type=header,
        action="append",
        default=[],
        help="an extra HTTP header for intake, e.g. 'X-API-Key: ...'",
    )
    parser.add_argument(
        "--keep-databases",
        action="store_true",
        help="leave the run's databases for inspection (their names are printed)",
    )
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"))
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.rate < 0 or args.duration <= 0 or args.concurrency < 1 or args.warm_up < 0:
        parser.error("--rate must be >= 0, --duration > 0, --concurrency >= 1 and --warm-up >= 0")
    return args


async def main(args: argparse.Namespace) -> int:
    # aiokafka logs each retry while a fresh broker creates its offsets topic; failures still raise.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = ROOT / "var" / "bench" / stamp
    logs.mkdir(parents=True, exist_ok=True)
    options = Options(
        mode=args.mode,
        rate=args.rate,
        duration=args.duration,
        concurrency=args.concurrency,
        drain_timeout=args.drain_timeout,
        relay_records=args.relay_records,
        headers=dict(args.header),
        log_level=args.log_level,
        seed=args.seed,
        limit=not args.no_limit,
        warm_up=args.warm_up,
    )
    async with prepared(args.bootstrap, args.database_url, keep=args.keep_databases) as (
        broker,
        urls,
    ):
        results = await measure(options, broker, urls, logs, stamp)
    path = save(results, args.out, stamp)
    draw(results, path.with_suffix(".png"))
    print(table(results))
    print(f"bench: results in {path} and {path.with_suffix('.png')}; logs in {logs}")
    return 0 if all(t["passed"] for t in results["targets"]) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
