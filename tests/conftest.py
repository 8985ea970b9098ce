"""Shared fixtures: where the real broker and database are, and unique names for each test."""

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from socialsvc_common.db import libpq_url
from tests.harness import drop_database, reachable

BOOTSTRAP = os.environ.get("SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9192")
DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://socialsvc:socialsvc@127.0.0.1:25432/socialsvc_test"
)


@pytest.fixture(scope="session")
def bootstrap() -> str:
    """The real Kafka broker; integration tests fail (not skip) without it."""
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


def create_database(postgres_url: str, name: str) -> tuple[str, Callable[[], None]]:
    """A new, empty PostgreSQL database (URL and a function that drops it): tests that own their
    tables never meet rows an earlier run left behind."""
    admin = libpq_url(postgres_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            drop_database(connection, name)

    return f"{postgres_url.rsplit('/', 1)[0]}/{name}", drop


@pytest.fixture
def database_factory(postgres_url: str) -> Iterator[Callable[[str], str]]:
    """Makes databases for one test (by name, returning their URLs) and drops them after it."""
    drops: list[Callable[[], None]] = []

    def make(name: str) -> str:
        url, drop = create_database(postgres_url, name)
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


@pytest.fixture
def fresh_postgres(database_factory: Callable[[str], str], unique: Callable[[str], str]) -> str:
    """The URL of a database made for this test alone."""
    return database_factory(unique("t").replace("-", "_"))
