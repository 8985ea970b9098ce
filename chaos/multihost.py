"""`python -m chaos.multihost` (make multihost): the platform on hosts of their own, one host
cut off the network at a time, with the chaos suite's invariants checked after each.

    make multihost                                   # every host cut in turn, 2,000 applications
    .venv/bin/python -m chaos.multihost --cut postgres --applications 500

Five hosts on this machine (network namespaces on a bridge, chaos/hosts.py, 10.77.0.0/24):
kafka-1, kafka-2 and kafka-3 run the secure three-broker cluster (TLS on every listener, with a
certificate authority made for the run; SASL/SCRAM; the access map's ACLs, nothing allowed
without one); postgres runs PostgreSQL, which takes TLS connections only, checked with
verify-full; services runs the four services, each logging in to Kafka as its own principal. The
suite itself (the load, the gateway stand-ins, the checker) is 10.77.0.1. Each scenario starts
from a wiped cluster and fresh databases; at a quarter of the load its host is cut off for a
minute (--cut-seconds), then comes back. Needs root, for the namespaces. Exit status 1 when
anything was lost or duplicated or the platform did not drain.
"""

import argparse
import asyncio
import os
import signal
import sys
from functools import partial
from pathlib import Path

from chaos import faults
from chaos.hosts import Network
from chaos.infra import VAR, Kafka, Postgres
from chaos.platform import Placement, leftovers
from chaos.report import Row, finish
from chaos.runner import Options, Site, run_each
from chaos.scenarios import Scenario

HOSTS = ("kafka-1", "kafka-2", "kafka-3", "postgres", "services")
HOME = VAR / "multihost"
PG_PORT = 5432
SCENARIOS = {
    f"cut-{host}": Scenario(
        f"cut-{host}",
        f"the {host} host cut off the network for a while, then back",
        partial(faults.cut_off, host=host),
    )
    for host in ("kafka-1", "postgres", "services")
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.multihost", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--cut",
        nargs="+",
        choices=[name.removeprefix("cut-") for name in SCENARIOS],
        default=[name.removeprefix("cut-") for name in SCENARIOS],
        help="the hosts to cut off, one scenario each (default: all three)",
    )
    parser.add_argument("--applications", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=20.0, help="applications a second, at most")
    parser.add_argument("--cut-seconds", type=float, default=60.0)
    parser.add_argument("--drain-timeout", type=float, default=1800.0, help="seconds")
    parser.add_argument("--json", type=Path, default=HOME / "report.json")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> list[Row]:
    if os.geteuid() != 0:
        raise SystemExit("multihost: making network namespaces needs root (CAP_NET_ADMIN)")
    if left := leftovers():
        raise SystemExit(
            "multihost: processes of an earlier run are still running; stop them first "
            "(kill <pid>):\n  " + "\n  ".join(left)
        )
    if (main_task := asyncio.current_task()) is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    options = Options(
        args.applications,
        args.rate,
        args.drain_timeout,
        broker_down_seconds=0,
        pause_seconds=0,
        pause_service="eligibility",
        cut_seconds=args.cut_seconds,
    )
    network = Network(HOSTS)
    brokers = tuple(network[f"kafka-{node}"].address for node in (1, 2, 3))
    kafka = Kafka("cluster-hosts", HOME, brokers, f"{network.prefix}-kafka-")
    database = network["postgres"]
    postgres = Postgres("multihost-pg", PG_PORT, database.address, database.netns, network.subnet)
    services = network["services"]
    site = Site(
        postgres,
        kafka=kafka,
        placement=Placement(services.address, services.netns, network.gateway),
        network=network,
    )
    try:
        await asyncio.to_thread(network.up)
        print(f"multihost: hosts {', '.join(f'{h.name} {h.address}' for h in network)}")
        await asyncio.to_thread(postgres.start)
        # Every PostgreSQL client of the run (services, checker) checks the server's certificate.
        os.environ |= {"PGSSLMODE": "verify-full", "PGSSLROOTCERT": str(postgres.cafile)}
        scenarios = [SCENARIOS[f"cut-{host}"] for host in args.cut]
        return await run_each(scenarios, options, lambda _: site, args.json, "multihost")
    finally:
        await asyncio.to_thread(kafka.stop)
        await asyncio.to_thread(postgres.stop)
        await asyncio.to_thread(network.down)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = asyncio.run(run(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("multihost: stopped; its services, brokers, database and hosts are down")
        return 130
    return finish(rows, args.json, "multihost")


if __name__ == "__main__":
    sys.exit(main())
