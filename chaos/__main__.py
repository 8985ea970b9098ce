"""`python -m chaos` (make chaos): run one scenario, or --all in turn, and print the report.

    make chaos SCENARIO=kill-intake            # or SCENARIO="kill-intake pg-pause"
    .venv/bin/python -m chaos --scenario kill-leader --applications 300
    .venv/bin/python -m chaos --all --applications 10000

The suite starts its own brokers (one node on 127.0.0.1:9392, the three-node cluster on
19092/29092/39092) and PostgreSQL (127.0.0.1:25532, and 25533 for the paused database), wipes the
broker before each scenario and stops all of it at the end. Exit status 1 when anything was lost
or duplicated, the platform did not drain, or a bad record held its partition up over five seconds.
"""

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from chaos.infra import VAR, Kafka, Postgres
from chaos.platform import leftovers
from chaos.report import Row, finish
from chaos.runner import Options, Site, run_each
from chaos.scenarios import SCENARIOS

MAIN_PG_PORT, VICTIM_PG_PORT = 25532, 25533


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--scenario", nargs="+", choices=sorted(SCENARIOS), help="one or more")
    which.add_argument("--all", action="store_true", help="every scenario in turn")
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=20.0, help="applications a second, at most")
    parser.add_argument("--drain-timeout", type=float, default=1800.0, help="seconds")
    parser.add_argument("--broker-down-seconds", type=float, default=120.0)
    parser.add_argument("--pause-seconds", type=float, default=60.0)
    parser.add_argument(
        "--pause-service",
        default="eligibility",
        choices=["intake", "eligibility", "assignment", "notifications"],
    )
    parser.add_argument("--json", type=Path, default=VAR / "chaos" / "report.json")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> list[Row]:
    names = sorted(SCENARIOS) if args.all else list(args.scenario)
    options = Options(
        args.applications,
        args.rate,
        args.drain_timeout,
        args.broker_down_seconds,
        args.pause_seconds,
        args.pause_service,
    )
    if left := leftovers():
        raise SystemExit(
            "chaos: processes of an earlier run are still running; stop them first "
            "(kill <pid>):\n  " + "\n  ".join(left)
        )
    # SIGTERM as SIGINT: stop the platform, the brokers and the databases before leaving.
    if (main_task := asyncio.current_task()) is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    main = Postgres("pg-main", MAIN_PG_PORT)
    victim = Postgres("pg-victim", VICTIM_PG_PORT)
    needs_victim = any(SCENARIOS[name].own_database for name in names)
    try:
        await asyncio.to_thread(main.start)
        if needs_victim:
            await asyncio.to_thread(victim.start)
        return await run_each(
            [SCENARIOS[name] for name in names],
            options,
            lambda scenario: Site(main, victim if scenario.own_database else None),
            args.json,
            "chaos",
        )
    finally:
        for deployment in {"cluster" if SCENARIOS[n].cluster else "chaos" for n in names}:
            await asyncio.to_thread(Kafka(deployment).stop)
        await asyncio.to_thread(main.stop)
        if needs_victim:
            await asyncio.to_thread(victim.stop)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = asyncio.run(run(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("chaos: stopped; its services, brokers and databases are down", file=sys.stderr)
        return 130
    return finish(rows, args.json, "chaos")


if __name__ == "__main__":
    sys.exit(main())
