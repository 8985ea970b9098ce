"""Each service's migrations on PostgreSQL and SQLite: an empty database reaches the head and then
matches the models; a database made by the last release (before migrations, by create_all, with
the demo's data in it) is adopted and upgraded with its data intact; a service and the policy
command refuse a database that is not at the head, naming the command that upgrades it."""

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, MetaData, String, func, inspect, select, text

from socialsvc_common.db import libpq_url, make_engine
from socialsvc_common.migrations import (
    Schema,
    SchemaNotAtHeadError,
    current_revision,
    differences,
    require_head,
    schemas,
    upgrade,
)

pytestmark = pytest.mark.integration
RELEASE = Path(__file__).parents[1] / "fixtures" / "release-0a3d95d"
# The services with a release before migrations, and every history (the audit archive's too).
RELEASED = ["assignment", "eligibility", "intake", "notifications"]
# The statistics service came after migrations: its history starts with its own tables.
SERVICES = ["archive", *RELEASED, "statistics"]


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    database_factory: Callable[[str], str],
    unique: Callable[[str], str],
) -> Callable[[str], str]:
    """Makes an empty database of the parametrised kind for a service, returning its URL."""
    if request.param == "postgresql":
        return lambda service: database_factory(unique(service).replace("-", "_"))
    return lambda service: f"sqlite+aiosqlite:///{tmp_path / service}.db"


def load_release(url: str, service: str) -> None:
    """Fills an empty database with what the release's own code made and stored."""
    if url.startswith("sqlite"):
        script = (RELEASE / f"{service}.sqlite.sql").read_text(encoding="utf-8")
        with sqlite3.connect(url.split(":///", 1)[1]) as connection:
            connection.executescript(script)
        return
    script = (RELEASE / f"{service}.postgresql.sql").read_text(encoding="utf-8")
    # psql's own commands (\restrict) are not SQL; the rest runs as pg_dump wrote it.
    sql = "\n".join(line for line in script.splitlines() if not line.startswith("\\"))
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(sql.encode())


async def row_counts(url: str, schema: Schema) -> dict[str, int]:
    """Rows per table of the schema that the database has (a later revision may add tables)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            present = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            tables = [t for t in schema.metadata().sorted_tables if t.name in present]
            return {
                table.name: (
                    await connection.execute(select(func.count()).select_from(table))
                ).scalar_one()
                for table in tables
            }
    finally:
        await engine.dispose()


async def revision_of(url: str, schema: Schema) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            found: str | None = await connection.run_sync(current_revision, schema)
            return found
    finally:
        await engine.dispose()


def test_every_service_publishes_its_history() -> None:
    known = schemas()
    assert sorted(known) == SERVICES
    for schema in known.values():
        assert schema.version_table == f"alembic_version_{schema.service}"
        assert (schema.versions / f"{schema.base()}_baseline.py").is_file()


@pytest.mark.parametrize("service", SERVICES)
async def test_an_empty_database_upgrades_to_a_schema_equal_to_the_models(
    service: str, empty_database: Callable[[str], str]
) -> None:
    schema = schemas()[service]
    engine = make_engine(empty_database(service))
    try:
        assert await upgrade(engine, schema) is None
        await require_head(engine, schema)
        # Autogenerate finds nothing to do: the revisions build exactly what the models say.
        assert await differences(engine, schema) == []
        # Upgrading again changes nothing.
        assert await upgrade(engine, schema) == schema.head()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", RELEASED)
async def test_a_database_of_the_last_release_upgrades_with_its_data_intact(
    service: str, empty_database: Callable[[str], str]
) -> None:
    schema = schemas()[service]
    url = empty_database(service)
    load_release(url, service)
    before = await row_counts(url, schema)
    assert await revision_of(url, schema) is None
    assert sum(before.values()) > 0, "the release's database holds the demo's data"

    engine = make_engine(url)
    try:
        with pytest.raises(SchemaNotAtHeadError, match=f"socialsvc-db upgrade {service}"):
            await require_head(engine, schema)
        # Adopted as the first revision, then upgraded from there.
        assert await upgrade(engine, schema) == schema.base()
        await require_head(engine, schema)
        assert await differences(engine, schema) == []
    finally:
        await engine.dispose()
    after = await row_counts(url, schema)
    assert {table: after[table] for table in before} == before
    if service == "intake":
        # Each application's consent checkbox became a consent record.
        assert after["consents"] == before["applications"]


async def test_the_release_applications_consent_becomes_a_record_of_the_old_checkbox(
    empty_database: Callable[[str], str],
) -> None:
    schema = schemas()["intake"]
    url = empty_database("intake")
    load_release(url, "intake")
    engine = make_engine(url)
    try:
        await upgrade(engine, schema)
        async with engine.connect() as connection:
            query = text(
                "SELECT a.form, a.submitted_at, c.text_version, c.language, c.purposes,"
                " c.given_at, c.recorded_by, c.withdrawn_at"
                " FROM applications a JOIN consents c ON c.application_id = a.id"
            )
            rows = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    assert rows
    for row in rows:
        form = json.loads(row.form)
        assert form["consent_to_processing"] is True
        assert row.text_version == "2026.0"
        assert row.language == form["applicant"].get("language", "az")
        purposes = json.loads(row.purposes) if isinstance(row.purposes, str) else row.purposes
        assert purposes == ["eligibility_assessment", "service_provision", "contact", "statistics"]
        assert str(row.given_at)[:19] == str(row.submitted_at)[:19]
        assert row.recorded_by == "migration:0004"
        assert row.withdrawn_at is None


async def test_the_release_decisions_become_the_first_entry_of_each_history(
    empty_database: Callable[[str], str],
) -> None:
    schema = schemas()["eligibility"]
    url = empty_database("eligibility")
    load_release(url, "eligibility")
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            query = text("SELECT application_id, event_id FROM decisions")
            before = {tuple(map(str, row)) for row in (await connection.execute(query)).all()}
        await upgrade(engine, schema)
        async with engine.connect() as connection:
            query = text("SELECT id, application_id, event_id, appeal_id FROM decisions")
            after = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    assert before
    assert {(str(row.application_id), str(row.event_id)) for row in after} == before
    # One entry per application, numbered, made by the rules (no appeal).
    assert len({row.application_id for row in after}) == len(after)
    assert sorted(row.id for row in after) == list(range(1, len(after) + 1))
    assert {row.appeal_id for row in after} == {None}


async def test_the_model_check_catches_a_column_no_revision_adds(tmp_path: Path) -> None:
    """The test above would fail if a model gained a column without a revision: shown here with
    a copy of intake's schema whose models have a column more than its revisions make."""
    real = schemas()["intake"]
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}")
    try:
        await upgrade(engine, real)
        widened = real.metadata()
        widened.tables["journey"].append_column(Column("not_in_any_revision", String(100)))
        async with engine.connect() as connection:
            found = await connection.run_sync(_compare_with, real, widened)
    finally:
        await engine.dispose()
    assert [(kind, column.name) for kind, _, _, column in found] == [
        ("add_column", "not_in_any_revision")
    ]


def _compare_with(connection: Connection, schema: Schema, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"version_table": schema.version_table})
    return [tuple(change) for change in compare_metadata(context, metadata)]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialsvc_common.db_cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_the_command_upgrades_and_reports_each_database(tmp_path: Path) -> None:
    urls = {service: f"sqlite+aiosqlite:///{tmp_path / service}.db" for service in SERVICES}
    env = {f"{service.upper()}_DATABASE_URL": url for service, url in urls.items()}

    heads = {service: schema.head() for service, schema in schemas().items()}
    behind = run_cli("current", "all", env=env)
    assert behind.returncode == 1
    assert f"intake: (none) (behind: head is {heads['intake']})" in behind.stdout

    done = run_cli("upgrade", "all", env=env)
    assert done.returncode == 0, done.stderr
    for service in SERVICES:
        assert f"{service}: {heads[service]} (upgraded from (empty))" in done.stdout

    again = run_cli("upgrade", "intake", "--url", urls["intake"])
    assert again.returncode == 0, again.stderr
    assert f"intake: {heads['intake']} (already at head)" in again.stdout

    at_head = run_cli("current", "all", env=env)
    assert at_head.returncode == 0
    assert at_head.stdout.count("(at head)") == len(SERVICES)

    history = run_cli("history", "eligibility")
    assert "<base> -> 0001" in history.stdout
    assert "Baseline: the schema as the services made it" in history.stdout
    assert "0003 -> 0004, Withdrawn applications" in history.stdout
    assert "0004 -> 0005, Who did what: the administrator who activated" in history.stdout
    assert "0005 -> 0006, Decision history and appeals" in history.stdout
    assert "0007 -> 0008 (head), The pre-screen of an erased person" in history.stdout
    funnel = run_cli("history", "statistics")
    assert "<base> -> 0001, Baseline: the read model of the figures" in funnel.stdout
    assert "0001 -> 0002 (head), The funnel of proactive services" in funnel.stdout

    unknown = run_cli("upgrade", "payroll")
    assert unknown.returncode == 2
    assert "no service payroll" in unknown.stderr


def test_a_service_refuses_a_database_not_at_its_head(tmp_path: Path) -> None:
    database = tmp_path / "eligibility.db"
    env = {
        **os.environ,
        "ELIGIBILITY_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ELIGIBILITY_HTTP_PORT": "1",  # never reached: the check comes first
        "ELIGIBILITY_LOG_JSON": "true",
    }
    done = subprocess.run(
        [sys.executable, "-m", "eligibility"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "SchemaNotAtHeadError" in output
    assert "run 'socialsvc-db upgrade eligibility' (or 'make migrate')" in output


def test_the_policy_command_refuses_a_database_not_at_its_head(tmp_path: Path) -> None:
    env = {"ELIGIBILITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "eligibility.policy_cli", "list"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "socialsvc-db upgrade eligibility" in done.stderr
