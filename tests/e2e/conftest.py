"""The whole platform as processes: the four services and the local sinks, on the real broker and
PostgreSQL, each run with fresh databases and fresh consumer groups that start at the topics' end
(so earlier runs' events are not replayed into this one)."""

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialsvc_common.apikeys import Role, issue
from socialsvc_common.contract.access import service_inputs
from tests.conftest import MakeDatabase, made_databases
from tests.forkserver import Forked, ForkServer
from tests.harness import (
    READ_MODELS,
    SERVICES,
    Gateways,
    free_port,
    key_per_role,
    migrate,
    module_of,
    service_env,
    start_group_at_end,
    wait_answering,
)

# The services with an HTTP API behind API keys.
PROTECTED = ("intake", "eligibility", "assignment", "notifications", "statistics")
INPUTS = service_inputs()


def issue_keys(store: Path) -> dict[Role, str]:
    """A fresh key store with one key per role; the keys, by role."""
    return key_per_role(store, "e2e")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def wait_for_log(path: Path, match: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log_lines(path):
            if all(line.get(key) == value for key, value in match.items()):
                return line
        time.sleep(0.2)
    raise AssertionError(f"no line {match} in {path}:\n{path.read_text()[-4000:]}")


@dataclass
class Platform:
    urls: dict[str, str]
    logs: dict[str, Path]
    processes: dict[str, Forked]
    groups: dict[str, str]
    sinks: Path
    forks: ForkServer
    keys: dict[Role, str] = field(repr=False)  # never in a failure message
    extra: dict[str, Any] = field(default_factory=dict)
    launchers: dict[str, Callable[[], None]] = field(default_factory=dict)

    def relaunch(self, name: str) -> None:
        """Starts a process again with its first arguments and environment (after a kill)."""
        assert self.processes[name].poll() is not None, f"{name} still runs"
        self.launchers[name]()

    def client(
        self, service: str, role: Role = Role.ADMINISTRATOR, **options: Any
    ) -> httpx.AsyncClient:
        """An HTTP client of `service` that sends the key of `role`."""
        return httpx.AsyncClient(
            base_url=self.urls[service], headers=bearer(self.keys[role]), **options
        )

    def sink_lines(self, name: str) -> list[dict[str, Any]]:
        path = self.sinks / name
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def stop(self) -> dict[str, int]:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return {name: process.wait(timeout=60) for name, process in self.processes.items()}


async def start_groups_at_end(bootstrap: str, groups: dict[str, str]) -> None:
    """Commits each new group's offsets at the current end of its topics, all at once: one
    after the other they took 4.6 s of each platform's start, together 1.7."""
    await asyncio.gather(
        *(
            start_group_at_end(bootstrap, group, INPUTS[service])
            for service, group in groups.items()
        )
    )


async def wait_healthy(url: str, seconds: float = 60) -> None:
    # "started" is logged inside the lifespan, a moment before uvicorn listens.
    await wait_answering(url + "/health", seconds=seconds)


class Templates:
    """A database at the head of each service's migrations, migrated once a session when first
    asked for; a platform's databases are copies of it (CREATE DATABASE .. TEMPLATE), which take
    a fraction of the time of migrating each anew."""

    def __init__(self, make_database: MakeDatabase) -> None:
        self._make_database = make_database
        self._names: dict[str, str] = {}

    async def name_of(self, service: str) -> str:
        if service not in self._names:
            name = f"e2e_template_{uuid.uuid4().hex[:10]}_{service}"
            await migrate(service, self._make_database(name))
            self._names[service] = name
        return self._names[service]


@pytest.fixture(scope="session")
def forks() -> Iterator[ForkServer]:
    """The fork server the platforms' processes start from (tests.forkserver)."""
    server = ForkServer(
        [
            *(f"{module_of(service)}.app" for service in (*SERVICES, *READ_MODELS)),
            "notifications.sinks.http_gateway",
            "notifications.sinks.receipts",
            "notifications.sinks.smtp_sink",
            "socialsvc_common.service",
            "workspace.app",
        ]
    )
    yield server
    server.close()


@pytest.fixture(scope="session")
def templates(postgres_url: str) -> Iterator[Templates]:
    with made_databases(postgres_url) as make:
        yield Templates(make)


@pytest.fixture
def platform_settings() -> dict[str, dict[str, str]]:
    """More settings of each service, by service and name without the prefix: a test module
    overrides this fixture to run the platform with settings of its own (a short offer period)."""
    return {}


@pytest.fixture
def platform_keys() -> dict[str, tuple[Role, dict[str, Any]]]:
    """More keys of the platform's store, by name: (role, scope as `apikeys.issue` takes it,
    e.g. {"districts": ["Gəncə"]}). A test module overrides this fixture for scoped keys; the
    keys are in `platform.extra["keys"]`, by name."""
    return {}


@pytest.fixture
def platform_read_models() -> tuple[str, ...]:
    """The read models (`harness.READ_MODELS`) the platform runs beside the four services: none
    unless a test module overrides this fixture, so the tests that do not look at figures do not
    pay for another process."""
    return ()


@pytest.fixture
async def own_platform(
    bootstrap: str,
    database_factory: MakeDatabase,
    templates: Templates,
    tmp_path: Path,
    unique: Callable[[str], str],
    *,
    forks: ForkServer,
    platform_settings: dict[str, dict[str, str]],
    platform_keys: dict[str, tuple[Role, dict[str, Any]]],
    platform_read_models: tuple[str, ...],
) -> AsyncIterator[Platform]:
    """A platform of this test's own: its processes, databases, consumer groups and sinks."""
    token = unique("p").split("-")[1]
    async with running_platform(
        bootstrap,
        database_factory,
        templates,
        tmp_path,
        token,
        forks=forks,
        platform_settings=platform_settings,
        platform_keys=platform_keys,
        read_models=platform_read_models,
    ) as running:
        yield running


@pytest.fixture(scope="module")
async def shared_platform(
    bootstrap: str,
    postgres_url: str,
    templates: Templates,
    forks: ForkServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Platform]:
    """One platform for the tests of a module that share it (they override `platform` with
    this): for tests that look only at their own applications, so that each does not pay for
    starting five processes and copying four databases."""
    with made_databases(postgres_url) as make:
        async with running_platform(
            bootstrap,
            make,
            templates,
            tmp_path_factory.mktemp("platform"),
            uuid.uuid4().hex[:10],
            forks=forks,
            platform_settings={},
            platform_keys={},
        ) as running:
            yield running


@pytest.fixture
def platform(own_platform: Platform) -> Platform:
    """The platform a test runs on: its own, unless its module shares one (`shared_platform`)."""
    return own_platform


@asynccontextmanager
async def running_platform(
    bootstrap: str,
    make_database: MakeDatabase,
    templates: Templates,
    tmp_path: Path,
    token: str,
    *,
    forks: ForkServer,
    platform_settings: dict[str, dict[str, str]],
    platform_keys: dict[str, tuple[Role, dict[str, Any]]],
    read_models: tuple[str, ...] = (),
) -> AsyncIterator[Platform]:
    """The four services, the read models asked for and the gateway stand-ins as processes on
    fresh databases at the head of their migrations, consumer groups starting at the end of
    their topics; killed on the way out."""
    unknown = set(read_models) - set(READ_MODELS)
    assert not unknown, f"no such read model: {unknown}"
    services = (*SERVICES, *read_models)
    groups = {service: f"{service}-e2e-{token}" for service in services}

    async def databases() -> dict[str, str]:
        return {
            s: await asyncio.to_thread(
                make_database, f"e2e_{token}_{s}", template=await templates.name_of(s)
            )
            for s in services
        }

    urls, _ = await asyncio.gather(databases(), start_groups_at_end(bootstrap, groups))
    gateways = Gateways()
    ports = {service: free_port() for service in services}
    sinks = tmp_path / "sinks"
    # A key of this run's own: public events that other runs on the shared broker derive from
    # this run's applications carry other pseudonymous ids.
    pseudonym_key = f"e2e-pseudonym-key-{token}"
    key_store = tmp_path / "api-keys.jsonl"
    keys = issue_keys(key_store)
    named = {
        name: issue(key_store, name, role, **scope) for name, (role, scope) in platform_keys.items()
    }
    processes: dict[str, Forked] = {}
    logs: dict[str, Path] = {}
    launchers: dict[str, Callable[[], None]] = {}

    def launch(name: str, args: list[str], env: dict[str, str]) -> None:
        logs[name] = tmp_path / f"{name}.log"

        def start() -> None:
            processes[name] = forks.start(args, {**os.environ, **env}, logs[name])

        launchers[name] = start
        start()

    receipts = f"http://127.0.0.1:{ports['notifications']}/receipts"
    launch("sinks", gateways.sinks_args(receipts, sinks), {})
    for service in services:
        settings = {"kafka_group_id": groups[service]}
        if service == "notifications":
            # A short cooldown, so a gateway outage test recovers in seconds.
            settings["breaker_cooldown_seconds"] = "1"
        else:
            settings["pseudonym_key"] = pseudonym_key
        if service == "intake":
            # An offer whose day a test moved into the past lapses within a second.
            settings["offer_sweep_seconds"] = "1"
        if service in PROTECTED:
            settings["api_keys_file"] = str(key_store)
        settings |= platform_settings.get(service, {})
        env = service_env(
            service,
            bootstrap=bootstrap,
            database_url=urls[service],
            port=ports[service],
            gateways=gateways,
            **settings,
        )
        launch(service, [module_of(service)], env)
    running = Platform(
        urls={s: f"http://127.0.0.1:{p}" for s, p in ports.items()},
        logs=logs,
        processes=processes,
        groups=groups,
        sinks=sinks,
        forks=forks,
        keys=keys,
        extra={
            "sms": gateways.sms_url,
            "inbox": gateways.inbox_url,
            "pseudonym_key": pseudonym_key,
            "key_store": key_store,
            "keys": named,
            "databases": urls,
        },
        launchers=launchers,
    )
    try:
        for name in processes:
            wait_for_log(logs[name], {"event": "started"})
        for url in running.urls.values():
            await wait_healthy(url)
        yield running
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
