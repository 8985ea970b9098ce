"""Shared fixtures: where the real broker and database are, and unique names for each test."""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import psycopg
import pytest

from socialsvc_common.db import database_named, libpq_url
from tests.harness import drop_database, reachable, worker_number


def worker_broker() -> str | None:
    """The broker of this pytest-xdist worker: `make test` runs two workers, each with a broker of
    its own (deploy/with-infra.sh lists them in TEST_KAFKA_BROKERS), since two platforms on one
    broker would consume each other's events. Set as SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS too, for
    the processes a test starts. None for a worker past the first without a broker of its own."""
    brokers = os.environ.get("TEST_KAFKA_BROKERS", "").split()
    number = worker_number()
    if number >= max(len(brokers), 1):
        return None
    if brokers and os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS"] = brokers[number]
    return os.environ.get("SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9192")


BOOTSTRAP = worker_broker()
DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://socialsvc:socialsvc@127.0.0.1:25432/socialsvc_test"
)
# Tries at copying a template database, which PostgreSQL refuses while anyone is connected to it.
COPY_ATTEMPTS = 40


@pytest.fixture(scope="session")
def bootstrap() -> str:
    """The real Kafka broker; integration tests fail (not skip) without it."""
    if BOOTSTRAP is None:
        pytest.fail(
            "this pytest-xdist worker has no broker of its own (two workers on one broker would "
            "consume each other's events): run 'make test', or TEST_WORKERS=2 "
            "deploy/with-infra.sh .venv/bin/python -m pytest -n 2"
        )
    first = BOOTSTRAP.split(",")[0]
    if not reachable(first):
        pytest.fail(f"Kafka is not reachable at {first}: run the tests with 'make test'")
    return BOOTSTRAP


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The real PostgreSQL test database."""
    if not reachable("127.0.0.1:" + DATABASE_URL.rsplit(":", 1)[1].split("/", 1)[0]):
        pytest.fail(f"PostgreSQL is not reachable for {DATABASE_URL}: run 'make test'")
    return DATABASE_URL


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test (or earlier run) uses, so tests can share one broker and database."""
    token = uuid.uuid4().hex[:10]
    return lambda prefix: f"{prefix}-{token}"


class MakeDatabase(Protocol):
    def __call__(self, name: str, *, template: str | None = None) -> str: ...


def create_database(
    postgres_url: str, name: str, *, template: str | None = None
) -> tuple[str, Callable[[], None]]:
    """A new PostgreSQL database (URL and a function that drops it), empty or a copy of
    `template`: tests that own their tables never meet rows an earlier run left behind."""
    admin = libpq_url(postgres_url)
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    with psycopg.connect(admin, autocommit=True) as connection:
        for attempt in range(1, COPY_ATTEMPTS + 1):
            try:
                connection.execute(statement)
                break
            except psycopg.errors.ObjectInUse:
                # An autovacuum worker in the template: it soon ends.
                if attempt == COPY_ATTEMPTS:
                    raise
                time.sleep(0.25)

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            drop_database(connection, name)

    return database_named(postgres_url, name), drop


@contextmanager
def made_databases(postgres_url: str) -> Iterator[MakeDatabase]:
    """Makes databases (by name, returning their URLs; empty, or copies of a template) and
    drops them on the way out."""
    drops: list[Callable[[], None]] = []

    def make(name: str, *, template: str | None = None) -> str:
        url, drop = create_database(postgres_url, name, template=template)
        drops.append(drop)
        return url

    try:
        yield make
    finally:
        for drop in reversed(drops):
            drop()


@pytest.fixture
def database_factory(postgres_url: str) -> Iterator[MakeDatabase]:
    """Makes databases for one test and drops them after it (`made_databases`)."""
    with made_databases(postgres_url) as make:
        yield make


@pytest.fixture
def fresh_postgres(database_factory: Callable[[str], str], unique: Callable[[str], str]) -> str:
    """The URL of a database made for this test alone."""
    return database_factory(unique("t").replace("-", "_"))
