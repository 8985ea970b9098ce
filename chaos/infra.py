"""The suite's own Kafka and PostgreSQL, started through deploy/kafka/kafkactl and
deploy/postgres/pgctl on ports apart from `make run` and the tests, and stopped again by pid."""

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.harness import drop_database

ROOT = Path(__file__).resolve().parent.parent
KAFKACTL = ROOT / "deploy" / "kafka" / "kafkactl"
PGCTL = ROOT / "deploy" / "postgres" / "pgctl"
VAR = ROOT / "var"
ROLE = "socialsvc"


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(args, check=True, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class Kafka:
    """A deployment of kafkactl: `chaos` (one node on 9392) or `cluster` (19092, 29092, 39092)."""

    deployment: str

    @property
    def nodes(self) -> list[int]:
        return [1, 2, 3] if self.deployment == "cluster" else [1]

    @property
    def bootstrap(self) -> str:
        if self.deployment == "cluster":
            return ",".join(f"127.0.0.1:{node}9092" for node in self.nodes)
        return "127.0.0.1:9392"

    def fresh(self) -> None:
        """Stopped, wiped and started again with every topic: each scenario counts from zero."""
        self.stop()
        _run([str(KAFKACTL), "wipe", self.deployment])
        self.start()
        _run(
            [
                str(ROOT / ".venv" / "bin" / "socialsvc-topics"),
                "--bootstrap-servers",
                self.bootstrap,
            ]
        )

    def start(self) -> None:
        """Starts every node that is not running and waits until all are ready."""
        _run([str(KAFKACTL), "start", self.deployment])

    def stop(self) -> None:
        _run([str(KAFKACTL), "stop", self.deployment])

    def pid(self, node: int) -> int | None:
        path = VAR / "kafka" / self.deployment / f"node-{node}.pid"
        if not path.exists():
            return None
        pid = int(path.read_text().strip())
        return pid if Path(f"/proc/{pid}").exists() else None

    def kill(self, node: int) -> None:
        """SIGKILL one node: no clean shutdown, no leadership handed over first."""
        pid = self.pid(node)
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    # kafkactl started the broker in a session of its own; init reaps it, we only watch.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass(frozen=True)
class Postgres:
    """A PostgreSQL cluster of pgctl's, in its own data directory on its own port."""

    name: str
    port: int

    @property
    def env(self) -> dict[str, str]:
        return {"SOCIALSVC_VAR": str(VAR / "chaos" / self.name), "PG_PORT": str(self.port)}

    def start(self) -> None:
        # Made first: pgctl (as root) keeps the data in the postgres user's home, one place for
        # every cluster of this checkout, unless that user can enter the directory it is given.
        (VAR / "chaos" / self.name).mkdir(parents=True, exist_ok=True)
        _run([str(PGCTL), "start"], self.env)

    def stop(self) -> None:
        _run([str(PGCTL), "stop"], self.env)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{ROLE}:{ROLE}@127.0.0.1:{self.port}/{database}"

    def fresh_database(self, database: str) -> str:
        """An empty database of this name (dropped first if an earlier run left it)."""
        with psycopg.connect(self._admin_url(), autocommit=True) as connection:
            drop_database(connection, database)
            connection.execute(f'CREATE DATABASE "{database}"')
        return self.url(database)

    def _admin_url(self) -> str:
        return f"postgresql://{ROLE}:{ROLE}@127.0.0.1:{self.port}/socialsvc_test"

    def processes(self) -> list[int]:
        """The postmaster and every backend it forked: pausing only the postmaster would leave
        the open connections answering."""
        postmaster_file = VAR / "chaos" / self.name / "postgres" / "data" / "postmaster.pid"
        postmaster = int(postmaster_file.read_text().split()[0])
        children = [
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _parent_of(int(entry.name)) == postmaster
        ]
        return [postmaster, *children]

    def pause(self) -> None:
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
