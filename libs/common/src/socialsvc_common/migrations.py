"""Each service's tables as a history of Alembic revisions, one history and one version table per
service (its database is its own, but the table names say whose history it is).

A service declares its `Schema` (its models and the folder of its revisions) and publishes it
under the `socialsvc.schemas` entry point, so `socialsvc-db` finds every service installed. The
service itself never changes its tables: it refuses to start unless its database is at the head
of its history (`require_head`), and the launchers (`make run`, `make migrate`, the tests, the
benchmark and the chaos suite) upgrade first.

A database made before migrations existed (by `create_all`) has the tables of the first revision
and no version table: the upgrade adopts it by recording that revision, then goes on from there.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, String, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from socialsvc_common.db import SCHEMA_LOCK_KEY
from socialsvc_common.inbox import InboxRow
from socialsvc_common.outbox import OutboxRow

log = structlog.get_logger("socialsvc.migrations")

ENTRY_POINTS = "socialsvc.schemas"
# env.py and the revision template, shared by every service's history.
SCRIPT_LOCATION = "socialsvc_common:alembic"


class SchemaNotAtHeadError(RuntimeError):
    """The database is not at the revision the code was written for."""


@dataclass(frozen=True)
class Schema:
    """A service's tables (its own models; the outbox and inbox every service has are added)
    and the folder of its revisions."""

    service: str
    models: tuple[type[SQLModel], ...]
    versions: Path

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.service}"

    @property
    def models_with_plumbing(self) -> tuple[type[SQLModel], ...]:
        return (OutboxRow, InboxRow, *self.models)

    def metadata(self) -> MetaData:
        """The service's tables alone (SQLModel keeps every service's in one registry)."""
        own = MetaData()
        for model in self.models_with_plumbing:
            model.__table__.to_metadata(own)  # type: ignore[attr-defined]
        return own

    def config(self, connection: Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.set_main_option("version_locations", str(self.versions))
        config.set_main_option("path_separator", "os")
        config.attributes["schema"] = self
        config.attributes["connection"] = connection
        return config

    def head(self) -> str:
        head = ScriptDirectory.from_config(self.config()).get_current_head()
        if head is None:
            raise RuntimeError(f"{self.service} has no revisions in {self.versions}")
        return head

    def base(self) -> str:
        base = ScriptDirectory.from_config(self.config()).get_base()
        if base is None:
            raise RuntimeError(f"{self.service} has no revisions in {self.versions}")
        return base


def schemas() -> dict[str, Schema]:
    """Every installed service's schema, by service name."""
    found = {}
    for point in entry_points(group=ENTRY_POINTS):
        schema = point.load()
        if not isinstance(schema, Schema):
            raise TypeError(f"entry point {point.value} is not a Schema")
        found[schema.service] = schema
    return dict(sorted(found.items()))


def current_revision(connection: Connection, schema: Schema) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": schema.version_table})
    return context.get_current_revision()


async def upgrade(engine: AsyncEngine, schema: Schema, revision: str = "head") -> str | None:
    """Brings the database to `revision` in one transaction; returns the revision it was at (the
    first, for a database made before migrations). Processes upgrading the same PostgreSQL
    database at once take turns."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
            )
        before: str | None = await connection.run_sync(_upgrade, schema, revision)
        return before


def _upgrade(connection: Connection, schema: Schema, revision: str) -> str | None:
    config = schema.config(connection)
    before = current_revision(connection, schema)
    if before is None and _made_before_migrations(connection, schema):
        before = schema.base()
        command.stamp(config, before)
        log.info("adopted a database made before migrations", service=schema.service, at=before)
    command.upgrade(config, revision)
    after = current_revision(connection, schema)
    if after != before:
        log.info("database upgraded", service=schema.service, was=before, now=after)
    return before


def _made_before_migrations(connection: Connection, schema: Schema) -> bool:
    """Whether the service's tables are there without a version table: `create_all`'s work."""
    present = set(inspect(connection).get_table_names())
    return bool(present & set(schema.metadata().tables))


async def require_head(engine: AsyncEngine, schema: Schema) -> None:
    """Refuses a database that is not at the head of the service's history, naming the command
    that upgrades it."""
    async with engine.connect() as connection:
        at = await connection.run_sync(current_revision, schema)
    head = schema.head()
    if at != head:
        raise SchemaNotAtHeadError(
            f"the {schema.service} database is at revision {at or '(none)'} and this version "
            f"needs {head}: run 'socialsvc-db upgrade {schema.service}' (or 'make migrate')"
        )


async def differences(engine: AsyncEngine, schema: Schema) -> list[Any]:
    """What autogenerate would change to make the database match the models: nothing, when the
    revisions and the models agree."""
    async with engine.connect() as connection:
        found: list[Any] = await connection.run_sync(_compare, schema)
        return found


def _compare(connection: Connection, schema: Schema) -> list[Any]:
    context = MigrationContext.configure(connection, opts=_context_options(schema))
    return list(compare_metadata(context, schema.metadata()))


def _context_options(schema: Schema) -> dict[str, Any]:
    return {
        "version_table": schema.version_table,
        "compare_type": True,
        "render_as_batch": True,  # SQLite alters a table by copying it
        "render_item": _render_item,
        "include_name": _not_version_tables,
    }


def _not_version_tables(name: str | None, kind: str, _: Any) -> bool:
    return not (kind == "table" and name is not None and name.startswith("alembic_version"))


def _render_item(kind: str, item: Any, _: AutogenContext) -> str | bool:
    """Revisions spell column types in SQLAlchemy's own terms, never by our classes, so an old
    revision keeps working whatever becomes of the code."""
    if kind != "type":
        return False
    if isinstance(item, String) and type(item).__module__.startswith("sqlmodel"):
        return f"sa.{String(length=item.length)!r}"  # SQLModel's AutoString: a plain string
    if isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


def run_migrations(context: EnvironmentContext) -> None:
    """env.py of every service's history: run on the connection the caller gave."""
    schema: Schema = context.config.attributes["schema"]
    connection: Connection | None = context.config.attributes["connection"]
    if connection is None:
        raise RuntimeError("migrations run through socialsvc-db, on a connection it opens")
    context.configure(
        connection=connection, target_metadata=schema.metadata(), **_context_options(schema)
    )
    with context.begin_transaction():
        context.run_migrations()


def names(selected: Iterable[str], known: dict[str, Schema]) -> list[Schema]:
    """The schemas asked for ('all' for every one); an unknown name is an error naming them."""
    wanted = list(selected)
    if wanted == ["all"]:
        return list(known.values())
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise KeyError(f"no service {', '.join(unknown)}; known: {', '.join(known)} or all")
    return [known[name] for name in wanted]
