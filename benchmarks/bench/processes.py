"""The platform as processes (the four services and the local sinks), and a psutil sampler of
the CPU and memory of every process that takes part in a run."""

import asyncio
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy import make_url

from benchmarks.bench.report import POSTGRES
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.contract.access import service_inputs
from tests.harness import (
    SERVICES,
    Gateways,
    free_port,
    migrate,
    service_env,
    start_group_at_end,
)


@dataclass
class Platform:
    processes: dict[str, subprocess.Popen[bytes]]
    urls: dict[str, str]
    groups: dict[str, str]
    # The e-gov gateway's credential: the load submits as a submitting system would.
    api_key: str = field(default="", repr=False)

    def stop(self, grace: float = 60) -> None:
        """SIGTERM in reverse start order, so services drain before their sinks go away."""
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def launch(
    name: str, module: list[str], env: dict[str, str], logs: Path
) -> subprocess.Popen[bytes]:
    with (logs / f"{name}.log").open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            [sys.executable, "-m", *module], stdout=out, stderr=out, env={**os.environ, **env}
        )


def start_platform(
    bootstrap: str, urls: dict[str, str], groups: dict[str, str], logs: Path, log_level: str
) -> Platform:
    gateways = Gateways()
    ports = {service: free_port() for service in SERVICES}
    key_store = logs / "api-keys.jsonl"
    api_key = issue(key_store, "bench-load", Role.SUBMITTER)
    receipts = f"http://127.0.0.1:{ports['notifications']}/receipts"
    processes = {"sinks": launch("sinks", gateways.sinks_args(receipts, logs / "sinks"), {}, logs)}
    for service in SERVICES:
        env = service_env(
            service,
            bootstrap=bootstrap,
            database_url=urls[service],
            port=ports[service],
            gateways=gateways,
            kafka_group_id=groups[service],
            log_level=log_level,
            api_keys_file=str(key_store),
        )
        processes[service] = launch(service, [service], env, logs)
    urls_by_service = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    return Platform(processes, urls_by_service, groups, api_key)


@asynccontextmanager
async def running(
    bootstrap: str, urls: dict[str, str], groups: dict[str, str], logs: Path, log_level: str
) -> AsyncIterator[Platform]:
    """The platform started on fresh consumer groups (at the topics' ends) and migrated
    databases, healthy; stopped when the block ends."""
    inputs = service_inputs()
    for service, group in groups.items():
        await start_group_at_end(bootstrap, group, inputs[service])
    for service, url in urls.items():
        await migrate(service, url)
    platform = start_platform(bootstrap, urls, groups, logs, log_level)
    try:
        await wait_healthy(platform)
        yield platform
    finally:
        platform.stop()


async def wait_healthy(platform: Platform, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        for name, url in platform.urls.items():
            while True:
                if platform.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited during start-up; see its log")
                try:
                    if (await client.get(url + "/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not healthy after {seconds}s; see its log")
                await asyncio.sleep(0.5)


@dataclass(frozen=True)
class Reading:
    cpu_seconds: float  # user + system, so far
    rss_mb: float


class Watched:
    """One process the sampler reads: its CPU so far and its resident set; with `tree`, a server
    and its children (PostgreSQL's postmaster and its backends, all its own children), counting
    those it has reaped too (its children times), so a connection that closes during a run still
    counts, and the largest resident set of one of them (their sum would count the shared buffers
    once in each). A child that ends between the two readings of one sample may count twice in
    it; the figure is a difference of two samples, so that is one backend's time at most."""

    def __init__(self, process: psutil.Process, *, tree: bool = False) -> None:
        self._process = process
        self._tree = tree
        self.first = self.read()
        self._last = (time.monotonic(), self.first.cpu_seconds)

    def read(self) -> Reading:
        """Raises psutil.Error once the process is gone."""
        cpu, rss = _times(self._process, reaped=self._tree)
        if self._tree:
            for child in self._process.children():
                try:
                    child_cpu, child_rss = _times(child, reaped=True)
                except psutil.Error:  # ended meanwhile: its time is now the root's reaped time
                    continue
                cpu += child_cpu
                rss = max(rss, child_rss)
        return Reading(cpu, rss / 2**20)

    def percent(self, cpu_seconds: float) -> float:
        """CPU % of one core since the last reading given here."""
        now, (at, before) = time.monotonic(), self._last
        self._last = (now, cpu_seconds)
        return 100 * (cpu_seconds - before) / (now - at) if now > at else 0.0


def _times(process: psutil.Process, *, reaped: bool) -> tuple[float, int]:
    """A process's CPU seconds (with `reaped`, its reaped children's too) and its RSS in bytes."""
    with process.oneshot():
        times, rss = process.cpu_times(), process.memory_info().rss
    cpu = times.user + times.system
    return (cpu + times.children_user + times.children_system if reaped else cpu), rss


def database_server_pid(url: str) -> int | None:
    """The pid of the PostgreSQL that serves `url`, when it runs on this machine."""
    parsed = make_url(url)
    if parsed.host is None:  # a Unix socket (or a host in the query): not found by a port
        return None
    return listening_pid(parsed.host, parsed.port or 5432, named="postgres")


def listening_pid(host: str, port: int, *, named: str = "") -> int | None:
    """The pid of the local process listening on host:port (on that address or on every
    address), whose name starts with `named`; None when there is none (another machine's
    server, a proxy on the port, or not ours to see)."""
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
        connections = psutil.net_connections(kind="tcp")
    except (OSError, psutil.Error):
        return None
    for connection in connections:
        if (
            connection.status != psutil.CONN_LISTEN
            or not connection.laddr
            or connection.laddr.port != port
            or connection.pid is None
        ):
            continue
        bound = ipaddress.ip_address(connection.laddr.ip.split("%")[0])
        if bound != address and not bound.is_unspecified:
            continue
        try:
            if psutil.Process(connection.pid).name().startswith(named):
                return int(connection.pid)
        except psutil.Error:
            continue
    return None


@dataclass
class Usage:
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (t, cpu %, rss MB)


class Sampler:
    """Samples named processes once a second; CPU is user + system time of the process."""

    def __init__(self, start: float) -> None:
        self._start = start
        self._watched: dict[str, Watched] = {}
        self.usage: dict[str, Usage] = {}

    def watch(self, name: str, pid: int, *, tree: bool = False) -> None:
        """Samples the process `pid` under `name`; with `tree`, the process and all its children,
        those still running and those it has reaped (a server's connections come and go)."""
        self._watched[name] = Watched(psutil.Process(pid), tree=tree)
        self.usage.setdefault(name, Usage())

    def watch_platform(
        self,
        platform: "Platform",
        broker_pid: int | None,
        broker: str,
        databases: Mapping[str, str],
    ) -> None:
        """Every process of the platform, the broker under `broker` when its pid is known, and
        the PostgreSQL server of the platform's `databases` (their URLs) under POSTGRES when it
        runs on this machine (the bench says when it does not)."""
        for name, process in platform.processes.items():
            self.watch(name, process.pid)
        if broker_pid is not None:
            self.watch(broker, broker_pid)
        server = database_server_pid(next(iter(databases.values())))
        if server is None:
            print("bench: PostgreSQL's server not found on this machine; its CPU is not measured")
        else:
            self.watch(POSTGRES, server, tree=True)

    def forget_platform(self, platform: "Platform", broker: str) -> None:
        """Takes a last sample of the platform's processes, the broker and PostgreSQL, and
        watches them no more (the broker goes on to the limit's phase under another name)."""
        for name in [*platform.processes, broker, POSTGRES]:
            self.forget(name)

    def forget(self, name: str) -> None:
        self.sample_one(name)
        self._watched.pop(name, None)

    def settle(self, name: str, cpu_seconds: float) -> None:
        """The CPU of a process that has exited, from its rusage, which a sample a second would
        miss the last of. (Its rusage's peak memory is not used: a forked child counts its
        parent's pages until exec.)"""
        self._watched.pop(name, None)
        self.usage.setdefault(name, Usage()).cpu_seconds = cpu_seconds

    def sample_one(self, name: str) -> None:
        watched = self._watched.get(name)
        if watched is None:
            return
        try:
            reading = watched.read()
        except psutil.Error:  # gone, or no longer ours to read: its last sample stands
            self._watched.pop(name)
            return
        usage = self.usage[name]
        usage.cpu_seconds = reading.cpu_seconds - watched.first.cpu_seconds
        usage.peak_rss_mb = max(usage.peak_rss_mb, reading.rss_mb)
        percent = watched.percent(reading.cpu_seconds)
        usage.samples.append((time.time() - self._start, percent, reading.rss_mb))

    async def run(self, interval: float = 1.0) -> None:
        while True:
            for name in list(self._watched):
                self.sample_one(name)
            await asyncio.sleep(interval)
