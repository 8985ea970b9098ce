"""The suite's own Kafka and PostgreSQL, started through deploy/kafka/kafkactl and
deploy/postgres/pgctl on ports apart from `make run` and the tests, and stopped again by pid.
The multi-host test's run on hosts of their own (network namespaces), over TLS, with logins."""

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pydantic import SecretStr

from chaos.hosts import in_netns
from chaos.kafka_view import Broker
from socialsvc_common.acls import load_passwords
from socialsvc_common.contract.access import access_map
from socialsvc_common.kafka_security import client_security
from socialsvc_common.settings import ServiceSettings
from tests.harness import SERVICES, drop_database

ROOT = Path(__file__).resolve().parent.parent
KAFKACTL = ROOT / "deploy" / "kafka" / "kafkactl"
PGCTL = ROOT / "deploy" / "postgres" / "pgctl"
VAR = ROOT / "var"
ROLE = "socialsvc"


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(args, check=True, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class Kafka:
    """A deployment of kafkactl: `chaos` (one node on 9392), `cluster` (19092, 29092, 39092) or
    `cluster-hosts`: the secure cluster (TLS, SASL/SCRAM, the access map's ACLs) with its nodes on
    `addresses`, port 9094, each in the network namespace `<netns_prefix><node>`."""

    deployment: str
    var: Path = VAR
    addresses: tuple[str, ...] = ()
    netns_prefix: str = ""

    @property
    def secure(self) -> bool:
        return self.deployment == "cluster-hosts"

    @property
    def nodes(self) -> list[int]:
        return [1, 2, 3] if self.deployment in ("cluster", "cluster-hosts") else [1]

    @property
    def bootstrap(self) -> str:
        if self.secure:
            return ",".join(f"{address}:9094" for address in self.addresses)
        if self.deployment == "cluster":
            return ",".join(f"127.0.0.1:{node}9092" for node in self.nodes)
        return "127.0.0.1:9392"

    @property
    def broker(self) -> Broker:
        """The suite's own access: as the super user on a secure cluster."""
        if not self.secure:
            return Broker(self.bootstrap)
        return Broker(self.bootstrap, client_security(self.login("admin", self.admin_password)))

    @property
    def cafile(self) -> Path:
        return self.var / "kafka" / self.deployment / "tls" / "ca.pem"

    @property
    def admin_password(self) -> str:
        return (self.var / "kafka" / self.deployment / "admin.password").read_text()

    @property
    def passwords(self) -> dict[str, str]:
        """Every principal's password of the access map (owner-only)."""
        return load_passwords(self.var / "kafka-principals.passwords", access_map())

    def login(self, principal: str, password: str) -> ServiceSettings:
        return ServiceSettings(
            kafka_bootstrap_servers=self.bootstrap.split(","),
            kafka_security_protocol="SASL_SSL",
            kafka_ssl_cafile=self.cafile,
            kafka_sasl_username=principal,
            kafka_sasl_password=SecretStr(password),
        )

    def service_logins(self) -> dict[str, dict[str, str]]:
        """Each service's Kafka settings (names without the prefix): its own principal's login
        on a secure cluster, nothing otherwise."""
        if not self.secure:
            return {}
        passwords = self.passwords
        return {
            service: {
                "kafka_security_protocol": "SASL_SSL",
                "kafka_ssl_cafile": str(self.cafile),
                "kafka_sasl_username": service,
                "kafka_sasl_password": passwords[service],
            }
            for service in SERVICES
        }

    @property
    def _env(self) -> dict[str, str]:
        env = {"SOCIALSVC_VAR": str(self.var)}
        if self.secure:
            env |= {
                "KAFKA_NODE_ADDRESSES": " ".join(self.addresses),
                "KAFKA_NETNS_PREFIX": self.netns_prefix,
            }
        return env

    def fresh(self) -> None:
        """Stopped, wiped and started again with every topic (and on a secure cluster every
        principal and ACL of the access map): each scenario counts from zero."""
        self.stop()
        _run([str(KAFKACTL), "wipe", self.deployment], self._env)
        self.start()
        tools = ROOT / ".venv" / "bin"
        admin = {"SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}
        if self.secure:
            # The tools log in as an operator would, from SOCIALSVC_KAFKA_*.
            admin |= {
                "SOCIALSVC_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "SOCIALSVC_KAFKA_SSL_CAFILE": str(self.cafile),
                "SOCIALSVC_KAFKA_SASL_USERNAME": "admin",
                "SOCIALSVC_KAFKA_SASL_PASSWORD": self.admin_password,
            }
        _run([str(tools / "socialsvc-topics")], admin)
        if self.secure:
            # Principals missing from the file get their passwords there (service_logins reads it).
            passwords = self.var / "kafka-principals.passwords"
            _run([str(tools / "socialsvc-acls"), "--passwords", str(passwords)], admin)

    def start(self) -> None:
        """Starts every node that is not running and waits until all are ready."""
        _run([str(KAFKACTL), "start", self.deployment], self._env)

    def stop(self) -> None:
        _run([str(KAFKACTL), "stop", self.deployment], self._env)

    def pid(self, node: int) -> int | None:
        path = self.var / "kafka" / self.deployment / f"node-{node}.pid"
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
    """A PostgreSQL cluster of pgctl's, in its own data directory on its own port; on `host`,
    inside the network namespace `netns` and open to the `clients` network, when given."""

    name: str
    port: int
    host: str = "127.0.0.1"
    netns: str | None = None
    clients: str | None = None

    @property
    def var(self) -> Path:
        return VAR / "chaos" / self.name

    @property
    def env(self) -> dict[str, str]:
        env = {"SOCIALSVC_VAR": str(self.var), "PG_PORT": str(self.port), "PG_HOST": self.host}
        return env | ({"PG_CLIENTS": self.clients} if self.clients else {})

    def start(self) -> None:
        # Made first: pgctl (as root) keeps the data in the postgres user's home, one place for
        # every cluster of this checkout, unless that user can enter the directory it is given.
        self.var.mkdir(parents=True, exist_ok=True)
        _run(in_netns(self.netns, [str(PGCTL), "start"]), self.env)

    def stop(self) -> None:
        _run([str(PGCTL), "stop"], self.env)

    @property
    def cafile(self) -> Path:
        """The authority the server's certificate is checked against (PGSSLROOTCERT)."""
        done = subprocess.run(
            [str(PGCTL), "ca"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
        )
        return Path(done.stdout.strip())

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{ROLE}:{ROLE}@{self.host}:{self.port}/{database}"

    def fresh_database(self, database: str) -> str:
        """An empty database of this name (dropped first if an earlier run left it)."""
        with psycopg.connect(self._admin_url(), autocommit=True) as connection:
            drop_database(connection, database)
            connection.execute(f'CREATE DATABASE "{database}"')
        return self.url(database)

    def _admin_url(self) -> str:
        return f"postgresql://{ROLE}:{ROLE}@{self.host}:{self.port}/socialsvc_test"

    def processes(self) -> list[int]:
        """The postmaster and every backend it forked: pausing only the postmaster would leave
        the open connections answering."""
        postmaster_file = self.var / "postgres" / "data" / "postmaster.pid"
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
