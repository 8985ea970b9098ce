"""The database engine and sessions of a service: SQLite by default, PostgreSQL by URL.

Every service owns its database. Sessions are async (SQLModel's AsyncSession over SQLAlchemy), so a
consumer or an HTTP handler never blocks the event loop on the database.
"""

import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    CursorResult,
    DateTime,
    Dialect,
    Executable,
    Table,
    any_,
    bindparam,
    event,
    inspect,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back time-zone aware on every backend.

    SQLite keeps no zone, so without this a row would come back naive there and aware on PostgreSQL.
    Naive datetimes are refused: their meaning depends on the machine that wrote them.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Maps a plain postgresql:// URL to the asyncpg driver; other URLs pass unchanged."""
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    return url


def libpq_url(url: str) -> str:
    """The URL without its SQLAlchemy driver, as libpq tools and psycopg take it."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+", 1)[0] + sep + rest


def database_named(url: str, name: str) -> str:
    """The URL of the database `name` on the server of `url`, with the same driver and login."""
    return f"{url.rsplit('/', 1)[0]}/{name}"


SCHEMA_LOCK_KEY = 7_160_020
IDLE_PING_SECONDS = 1.0
IDLE_SINCE = "socialsvc_idle_since"


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # WAL lets readers run beside the single writer; a busy timeout instead of "database is locked".
    # The driver's own transaction handling is switched off so that `_sqlite_begin` decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # SQLite ignores SELECT ... FOR UPDATE; taking the write lock when a transaction begins gives
    # the same guarantee (a read-then-write such as a capacity check cannot interleave).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine for a service database URL (sqlite+aiosqlite://, postgresql+asyncpg://
    or postgresql+psycopg://)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    engine = create_async_engine(
        parsed,
        echo=echo,
        # Statement errors would otherwise carry bound values (names, birth dates) into logs.
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
    )
    ping_after_idle(engine)
    return engine


def ping_after_idle(engine: AsyncEngine, seconds: float = IDLE_PING_SECONDS) -> None:
    """Checks a pooled connection before use only when it has lain idle for `seconds`.

    SQLAlchemy's pool_pre_ping checks every checkout: a round trip per transaction, 3% of a busy
    consumer's time. A connection that a database restart broke has lain idle through it (or its
    statement fails, the pool discards its connections and the caller's retry gets new ones), so
    the connections in steady use are not pinged. A failed ping makes the pool connect afresh."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _idle_from(_: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _: Any) -> None:
        idle_since = record.info.pop(IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("the pooled connection no longer answers") from error


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded rows usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits when the block ends, rolls back when it raises."""
    async with sessions() as session, session.begin():
        yield session


def on_asyncpg(engine: AsyncEngine) -> bool:
    """Whether the engine's connections are asyncpg's, so that `driver_transaction` can serve."""
    return engine.dialect.driver == "asyncpg"


def driver_sql(statement: ClauseElement, dialect: Dialect) -> str:
    """A Core statement's SQL for the driver itself, its parameters $1, $2 .. in their order
    in the text: for `driver_transaction`, with values the driver takes as they are."""
    return str(statement.compile(dialect=dialect))


@asynccontextmanager
async def driver_transaction(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A transaction on a pooled connection's own asyncpg connection, below SQLAlchemy.

    For the few statements every batch runs (the outbox relay's pass): on this machine a
    transaction costs the client 0.3 ms here against 0.9 ms through a session, and a statement
    0.1 ms against 0.3 (`benchmarks.transaction_costs`). SQLAlchemy does not see what happens on
    the connection and cannot tell a broken one from a refused statement, so a connection whose
    block raised is invalidated here (the pool would otherwise hand a broken connection out
    again); a new connection costs little beside an error. The connection goes back to the pool
    outside a transaction, as SQLAlchemy expects it."""
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        try:
            async with driver.transaction():
                yield driver
        except BaseException:
            await connection.invalidate()
            raise


class _Among(ColumnElement[bool]):
    """`column IN (values)` whose SQL text is the same however many values there are."""

    __visit_name__ = "among"
    inherit_cache = True
    _is_implicitly_boolean = True
    _traverse_internals: list[tuple[str, InternalTraversal]] = [  # noqa: RUF012
        ("column", InternalTraversal.dp_clauseelement),
        ("listed", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], values: Iterable[Any]) -> None:
        chosen = list(values)
        self.column = column
        self.listed = bindparam(None, chosen, type_=column.type, expanding=True)
        self.array = bindparam(None, chosen, type_=postgresql.ARRAY(column.type))


def among(column: ColumnElement[Any] | Mapped[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)` for a list as long as a batch: on PostgreSQL `column = ANY(:array)`.

    An IN list has a placeholder per value, so each batch size is another statement to parse,
    plan and prepare, on every pooled connection, and the driver's cache of prepared statements
    churns (three times the cost of a lookup by 1-250 ids). One array parameter keeps one
    statement; SQLite, which has no arrays, gets the IN list."""
    element = column.__clause_element__() if isinstance(column, QueryableAttribute) else column
    return _Among(cast(ColumnElement[Any], element), values)


@compiles(_Among)
def _listed(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.listed), **kw)


@compiles(_Among, "postgresql")
def _array(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column == any_(element.array), **kw)


async def run(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> CursorResult[Any]:
    """Runs a Core statement on the session's connection, in its transaction: a list of
    parameter sets runs it for each in one go (executemany). No ORM work on the way."""
    connection = await session.connection()
    if isinstance(params, Sequence):
        return await connection.execute(statement, list(params))
    return await connection.execute(statement, params)


async def update_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], key: str = "id"
) -> None:
    """Writes each row's columns to the row with its `key`, all rows in one statement.

    On PostgreSQL: `UPDATE .. FROM unnest(:column arrays) WHERE key = v.key`, one array parameter
    a column, so one statement whatever the batch size and one round trip (the ORM's unit of
    work updated row by row). SQLite, which has no arrays, gets an update per row in one go.
    Every row names the same columns."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    dialect = session.bind.dialect if session.bind is not None else None
    if dialect is None or dialect.name != "postgresql":
        by_key = bindparam("_key", type_=table.c[key].type)
        each = (
            update(table)
            .where(table.c[key] == by_key)
            .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
        )
        await run(
            session,
            each,
            [{**{name: row[name] for name in columns}, "_key": row[key]} for row in rows],
        )
        return
    quote = dialect.identifier_preparer.quote
    names = [key, *columns]
    arrays = ", ".join(
        f"CAST(:p{n} AS {table.c[name].type.compile(dialect=dialect)}[])"
        for n, name in enumerate(names)
    )
    assigned = ", ".join(f"{quote(table.c[name].name)} = v.{quote(name)}" for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    aliases = ", ".join(map(quote, names))
    statement = text(
        f"UPDATE {target} SET {assigned} FROM unnest({arrays}) AS v({aliases}) "  # noqa: S608 - names from the table, quoted
        f"WHERE {target}.{quote(table.c[key].name)} = v.{quote(key)}"
    ).bindparams(
        *(
            bindparam(f"p{n}", type_=postgresql.ARRAY(table.c[name].type))
            for n, name in enumerate(names)
        )
    )
    await run(
        session, statement, {f"p{n}": [row[name] for row in rows] for n, name in enumerate(names)}
    )


async def write_changes(session: AsyncSession, rows: Sequence[SQLModel]) -> None:
    """Writes what changed in these loaded rows of one table, in one statement (update_rows),
    instead of the ORM's UPDATE per row at commit: the rows leave the session, and the columns
    any of them changed are written for every one that changed."""
    changed = [row for row in rows if inspect(row).committed_state]
    for row in rows:
        session.expunge(row)
    if not changed:
        return
    mapper = inspect(type(changed[0]))
    (key,) = (column.name for column in mapper.primary_key)
    names = sorted({name for row in changed for name in inspect(row).committed_state})
    await update_rows(
        session,
        mapper.local_table,
        [
            {key: getattr(row, key), **{name: getattr(row, name) for name in names}}
            for row in changed
        ],
        key=key,
    )


def dialect_insert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, for its ON CONFLICT clauses."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def insert_new(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], returning: Column[Any]
) -> set[Any]:
    """Inserts the rows that clash with no unique key, in one statement, and returns the
    `returning` column of those that went in: what was new, learnt without a SELECT first."""
    if not rows:
        return set()
    statement = dialect_insert(session, table).on_conflict_do_nothing().returning(returning)
    return set((await run(session, statement, rows)).scalars())


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    *,
    unless: ColumnElement[bool] | None = None,
) -> None:
    """Inserts the rows, or overwrites the row with the same `key`, in one statement (leaving
    alone a row for which `unless` holds). When the rows repeat a key, the last of them wins."""
    latest = {tuple(row[k] for k in key): row for row in rows}
    if not latest:
        return
    statement = dialect_insert(session, table)
    replaced = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in key}
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_=replaced, where=None if unless is None else ~unless
    )
    await run(session, statement, list(latest.values()))
