"""The platform as processes: the local sinks and the four services (and extra replicas), each
with its own log, watched by a monitor that starts again whatever stopped without being asked to.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chaos.hosts import in_netns
from chaos.infra import VAR
from chaos.load import API_KEY_ENV
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.faults import ENV as FAULT_ENV
from tests.harness import SERVICES, Gateways, free_port, migrate, service_env

HEALTHY_WITHIN = 120.0
# One file per live process the suite started, named by its pid, holding its command line: a
# runner killed before it could stop them leaves them here to be found by the next one.
PIDS = VAR / "chaos" / "pids"


def leftovers() -> list[str]:
    """The processes an earlier run started and left running ("pid: command")."""
    found = []
    for entry in sorted(PIDS.glob("*")) if PIDS.exists() else []:
        try:
            running = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            running = b""
        if running and running == entry.read_bytes():
            command = running.replace(b"\0", b" ").decode().strip()
            found.append(f"{entry.name}: {command}")
        else:
            entry.unlink()  # gone, or its pid taken by something else since
    return found


@dataclass(frozen=True)
class Placement:
    """Where the platform's processes run: the services on `address`, inside the network
    namespace `netns` (none: this host's own), the gateway stand-ins on `gateways`."""

    address: str = "127.0.0.1"
    netns: str | None = None
    gateways: str = "127.0.0.1"


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    url: str
    netns: str | None = None
    # A crash point armed for this many more launches (see socialsvc_common.faults).
    fault: str | None = None
    fault_launches: int = 0
    popen: "subprocess.Popen[bytes] | None" = None
    exits: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None and self.popen.poll() is None else None


class Platform:
    def __init__(
        self,
        workdir: Path,
        bootstrap: str,
        databases: dict[str, str],
        *,
        placement: Placement = Placement(),
        logins: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """`logins`: each service's Kafka login settings (names without the prefix)."""
        self.workdir = workdir
        self.sinks = workdir / "sinks"
        self.bootstrap = bootstrap
        self.databases = databases
        self.placement = placement
        self.logins = logins or {}
        self.processes: dict[str, Process] = {}
        # Names stopped on purpose: the monitor leaves them alone.
        self.held: set[str] = set()
        self.unexpected_exits: list[tuple[str, int]] = []
        self._gateways = Gateways(host=placement.gateways)
        self._monitor: asyncio.Task[None] | None = None
        # The load submits as the e-gov gateway would, with a key of the submitting role; each
        # scenario's platform has a store of its own, so its key replaces the one before.
        self.key_store = workdir / "api-keys.jsonl"
        self.key_store.unlink(missing_ok=True)
        os.environ[API_KEY_ENV] = issue(self.key_store, "chaos-load", Role.SUBMITTER)
        # The suite reads the services' /metrics at the end as Prometheus would.
        self.monitor_key = issue(self.key_store, "chaos-monitor", Role.MONITOR)

    def add(self, name: str, service: str, fault: str | None = None, launches: int = 0) -> Process:
        port = free_port()
        env = service_env(
            service,
            bootstrap=self.bootstrap,
            database_url=self.databases[service],
            port=port,
            gateways=self._gateways,
            api_keys_file=str(self.key_store),
            http_host=self.placement.address,
            **self.logins.get(service, {}),
        )
        process = Process(
            name,
            [service],
            env,
            f"http://{self.placement.address}:{port}",
            netns=self.placement.netns,
            fault=fault,
            fault_launches=launches,
        )
        self.processes[name] = process
        return process

    async def start(self, faults: dict[str, tuple[str, int]]) -> None:
        """Starts the sinks and one process of each service; `faults` arms crash points."""
        for service, url in self.databases.items():
            await migrate(service, url)
        for service in SERVICES:
            fault, launches = faults.get(service, (None, 0))
            self.add(service, service, fault, launches)
        receipts = self.processes["notifications"].url + "/receipts"
        self.processes = {
            "sinks": Process(
                "sinks", self._gateways.sinks_args(receipts, self.sinks), {}, self._gateways.sms_url
            ),
            **self.processes,  # started after the sinks they send to
        }
        for name in self.processes:
            self.launch(name)
        for name in self.processes:
            await self.wait_healthy(name)
        self._monitor = asyncio.create_task(self._watch())

    def launch(self, name: str) -> None:
        process = self.processes[name]
        env = {**os.environ, **process.env}
        env.pop(FAULT_ENV, None)
        if process.fault and process.fault_launches > 0:
            env[FAULT_ENV] = process.fault
            process.fault_launches -= 1
        args = [sys.executable, "-m", *process.args]
        with (self.workdir / f"{name}.log").open("ab") as log:
            # A session of its own: a Ctrl-C at the terminal reaches the runner alone, which
            # stops every process in order instead of its monitor starting them again.
            process.popen = subprocess.Popen(
                in_netns(process.netns, args),
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        # `ip netns exec` execs the command in place: the pid runs `args` in either case.
        PIDS.mkdir(parents=True, exist_ok=True)
        (PIDS / str(process.popen.pid)).write_bytes(b"".join(a.encode() + b"\0" for a in args))

    @staticmethod
    def _exited(process: Process, code: int) -> None:
        process.exits.append(code)
        if process.popen is not None:
            (PIDS / str(process.popen.pid)).unlink(missing_ok=True)

    async def wait_healthy(self, name: str) -> None:
        process = self.processes[name]
        deadline = time.monotonic() + HEALTHY_WITHIN
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(process.url + "/health", timeout=5)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not healthy after {HEALTHY_WITHIN}s")
                await asyncio.sleep(0.3)

    async def stop(self, name: str, sig: signal.Signals, *, grace: float = 60) -> int:
        """Sends `sig` and waits for the exit; the monitor does not start it again."""
        self.held.add(name)
        process = self.processes[name]
        if process.popen is None:
            return 0
        process.popen.send_signal(sig)
        deadline = time.monotonic() + grace
        while process.popen.poll() is None:
            if time.monotonic() > deadline:
                process.popen.kill()
            await asyncio.sleep(0.1)
        code = process.popen.returncode
        self._exited(process, code)
        return code

    async def restart(self, name: str) -> None:
        self.launch(name)
        await self.wait_healthy(name)
        self.held.discard(name)

    async def _watch(self) -> None:
        while True:
            for name, process in list(self.processes.items()):
                if name in self.held or process.popen is None:
                    continue
                code = process.popen.poll()
                if code is not None:
                    self._exited(process, code)
                    if not (process.fault and code == -signal.SIGKILL):
                        self.unexpected_exits.append((name, code))
                    self.launch(name)
            await asyncio.sleep(0.5)

    def cpu_seconds(self, name: str) -> float:
        pid = self.processes[name].pid
        if pid is None:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def shutdown(self) -> None:
        """SIGTERM to every process, services before the sinks; SIGKILL after the grace."""
        if self._monitor is not None:
            self._monitor.cancel()
        names = [name for name in self.processes if name != "sinks"] + ["sinks"]
        for name in names:
            if self.processes[name].pid is not None:
                await self.stop(name, signal.SIGTERM, grace=30)
