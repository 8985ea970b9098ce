"""One scenario from a fresh broker and fresh databases to its row in the report."""

import asyncio
import contextlib
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chaos.check import check, scrape
from chaos.drain import wait_drained
from chaos.faults import Context
from chaos.hosts import Network
from chaos.infra import VAR, Kafka, Postgres
from chaos.load import Progress, submit_all
from chaos.platform import Placement, Platform
from chaos.report import Row, table, write_json
from chaos.scenarios import Scenario
from tests.e2e.applicants import mixed_applications
from tests.harness import SERVICES


@dataclass(frozen=True)
class Options:
    applications: int
    rate: float
    drain_timeout: float
    broker_down_seconds: float
    pause_seconds: float
    pause_service: str
    seed: int = 8
    cut_seconds: float = 60.0


@dataclass(frozen=True)
class Site:
    """Where a scenario runs: its PostgreSQL (and the paused service's own), its broker (by
    default the scenario's kafkactl deployment on loopback), where its processes are placed, and
    the network of hosts when they are on several."""

    main: Postgres
    victim: Postgres | None = None
    kafka: Kafka | None = None
    placement: Placement = field(default_factory=Placement)
    network: Network | None = None


async def run_each(
    scenarios: list[Scenario],
    options: Options,
    site_of: Callable[[Scenario], Site],
    report: Path,
    tag: str,
) -> list[Row]:
    """Runs the scenarios in turn, each on its site, printing its row as it ends and writing the
    report so far; one broken scenario must not hide the others' results."""
    rows: list[Row] = []
    for scenario in scenarios:
        print(f"{tag}: {scenario.name}: {scenario.description}", flush=True)
        try:
            row = await run_scenario(scenario, options, site_of(scenario))
        except Exception as error:
            traceback.print_exc()
            row = Row(scenario.name, 0, 0, 0, 0, None, {"error": repr(error)})
        rows.append(row)
        print(table(rows[-1:]), flush=True)
        write_json(rows, report)
    return rows


async def run_scenario(scenario: Scenario, options: Options, site: Site) -> Row:
    kafka = site.kafka or Kafka("cluster" if scenario.cluster else "chaos")
    await asyncio.to_thread(kafka.fresh)
    workdir = VAR / "chaos" / "runs" / scenario.name
    _empty(workdir)
    run = f"{scenario.name}-{int(time.time())}"
    urls = {}
    for service in SERVICES:
        paused = site.victim is not None and service == options.pause_service
        server = site.victim if site.victim is not None and paused else site.main
        urls[service] = server.fresh_database(f"chaos_{scenario.name}_{service}".replace("-", "_"))
    platform = Platform(
        workdir, kafka.bootstrap, urls, placement=site.placement, logins=kafka.service_logins()
    )
    progress = Progress(options.applications)
    context = Context(
        platform,
        kafka,
        progress,
        asyncio.Event(),
        victim=site.victim,
        victim_service=options.pause_service,
        broker_down_seconds=options.broker_down_seconds,
        pause_seconds=options.pause_seconds,
        network=site.network,
        cut_seconds=options.cut_seconds,
    )
    fault: asyncio.Task[None] | None = None
    try:
        await platform.start(scenario.hooks(options.applications))
        fault = asyncio.create_task(scenario.fault(context))
        forms = mixed_applications(options.applications, options.seed)
        load = await submit_all(
            lambda: platform.processes["intake"].url, forms, run, progress, rate=options.rate
        )
        context.load_done.set()
        await fault
        drain = await wait_drained(kafka.broker, urls, options.drain_timeout)
        # The processes running now: replicas a scenario stopped on purpose are gone.
        expositions, unread = await scrape(
            {
                name: process.url
                for name, process in platform.processes.items()
                if name != "sinks" and process.pid is not None
            },
            platform.monitor_key,
        )
        findings = await check(
            kafka.broker,
            urls,
            platform.sinks,
            {str(a) for a in load.accepted.values()},
            injected=context.injected,
            expositions=expositions,
        )
    finally:
        # Stopped early (Ctrl-C, SIGTERM, an error): the fault must not restart what stops now.
        if fault is not None and not fault.done():
            fault.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fault
        await platform.shutdown()
    details = {
        "submitted": options.applications,
        "refused by intake": len(load.refused),
        "load seconds": round(load.seconds, 1),
        "retried submissions": load.retries,
        "unexpected process exits": platform.unexpected_exits,
        "drained": drain.drained,
        "left when the drain timed out": drain.left,
        **context.notes,
        **({"metrics not read": unread} if unread else {}),
        **findings.summary(),
    }
    return Row(
        scenario.name,
        len(load.accepted),
        findings.lost_count,
        findings.duplicated_count,
        int(findings.facts.get("dead letters", 0)),
        round(drain.seconds, 1) if drain.drained else None,
        details,
    )


def _empty(workdir: Path) -> None:
    # Logs and sinks of the scenario's previous run go; they would be counted again.
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
