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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy import make_url

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
class TreeReading:
    cpu_seconds: float
    largest_rss_mb: float


class TreeCpu:
    """The CPU of a server and its children (PostgreSQL's postmaster and its backends, all its
    own children): user and system time of those running, and of those it has reaped (the
    postmaster's children times), so a connection that closes during a run still counts. A child
    that ends between the two readings of one sample may count twice in it; the figure is a
    difference of two samples, so that is one backend's time at most. One walk of the children a
    reading: the sampler runs on the machine it measures."""

    def __init__(self, root: psutil.Process) -> None:
        self._root = root
        self._last: tuple[float, float] | None = None  # (monotonic time, cpu seconds)

    def read(self) -> TreeReading:
        """The tree's CPU seconds so far, and the largest resident set of one of its processes
        (their sum would count the shared buffers once in each)."""
        cpu, largest = 0.0, 0
        for child in self._root.children():
            try:
                with child.oneshot():
                    times, rss = child.cpu_times(), child.memory_info().rss
            except psutil.Error:  # ended meanwhile (its time is now the root's reaped time)
                continue
            cpu += times.user + times.system + times.children_user + times.children_system
            largest = max(largest, rss)
        with self._root.oneshot():
            own, rss = self._root.cpu_times(), self._root.memory_info().rss
        cpu += own.user + own.system + own.children_user + own.children_system
        return TreeReading(cpu, max(largest, rss) / 2**20)

    def percent(self, cpu_seconds: float) -> float:
        """CPU % of one core between the last reading given here and this one (0 at the first)."""
        now, last = time.monotonic(), self._last
        self._last = (now, cpu_seconds)
        if last is None or now <= last[0]:
            return 0.0
        return 100 * (cpu_seconds - last[1]) / (now - last[0])


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
        self._watched: dict[str, psutil.Process] = {}
        self._first: dict[str, float] = {}
        self._trees: dict[str, TreeCpu] = {}
        self.usage: dict[str, Usage] = {}

    def watch(self, name: str, pid: int, *, tree: bool = False) -> None:
        """Samples the process `pid` under `name`; with `tree`, the process and all its children,
        those still running and those it has reaped (a server's connections come and go)."""
        process = psutil.Process(pid)
        process.cpu_percent(None)
        self._watched[name] = process
        if tree:
            self._trees[name] = TreeCpu(process)
        self._first[name] = self._cpu_of(name, process)
        if tree:
            self._trees[name].percent(self._first[name])
        self.usage.setdefault(name, Usage())

    def _cpu_of(self, name: str, process: psutil.Process) -> float:
        tree = self._trees.get(name)
        if tree is not None:
            return tree.read().cpu_seconds
        times = process.cpu_times()
        return float(times.user + times.system)

    def watch_platform(self, platform: "Platform", broker_pid: int | None, broker: str) -> None:
        """Every process of the platform, and the broker under `broker` when its pid is known."""
        for name, process in platform.processes.items():
            self.watch(name, process.pid)
        if broker_pid is not None:
            self.watch(broker, broker_pid)

    def watch_database(self, name: str, url: str) -> None:
        """The PostgreSQL that serves `url`, all its processes, when it runs on this machine; says
        so when it is not found (on another machine, or not PostgreSQL on that port)."""
        server = database_server_pid(url)
        if server is None:
            print("bench: PostgreSQL's server not found on this machine; its CPU is not measured")
            return
        self.watch(name, server, tree=True)

    def forget_platform(self, platform: "Platform", broker: str) -> None:
        """Takes a last sample of the platform's processes and the broker, and watches them no
        more (the broker goes on to the limit's phase under another name)."""
        for name in [*platform.processes, broker]:
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
        process = self._watched.get(name)
        if process is None:
            return
        tree = self._trees.get(name)
        try:
            if tree is not None:
                reading = tree.read()
                cpu, rss = reading.cpu_seconds, reading.largest_rss_mb
                percent = tree.percent(cpu)
            else:
                with process.oneshot():
                    times = process.cpu_times()
                    rss = process.memory_info().rss / 2**20
                    percent = process.cpu_percent(None)
                cpu = times.user + times.system
        except psutil.Error:  # gone, or no longer ours to read: its last sample stands
            self._watched.pop(name)
            return
        usage = self.usage[name]
        usage.cpu_seconds = cpu - self._first[name]
        usage.peak_rss_mb = max(usage.peak_rss_mb, rss)
        usage.samples.append((time.time() - self._start, percent, rss))

    async def run(self, interval: float = 1.0) -> None:
        while True:
            for name in list(self._watched):
                self.sample_one(name)
            await asyncio.sleep(interval)
