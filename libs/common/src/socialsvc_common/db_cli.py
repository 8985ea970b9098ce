"""socialsvc-db: the services' schema migrations.

    socialsvc-db upgrade  <service>... | all   bring each database to the head of its history
    socialsvc-db current  <service>... | all   the revision each database is at, and the head
    socialsvc-db history  <service>... | all   each service's revisions, newest first
    socialsvc-db revision <service> -m "what changes"
                                               a new revision from the difference between the
                                               models and the head (review it before committing)

Each service's database is the one it uses: <SERVICE>_DATABASE_URL, or its SQLite file under
var/data/ by default; --url names another for a single service.
"""

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection

from socialsvc_common.db import make_engine
from socialsvc_common.logs import configure_logging
from socialsvc_common.migrations import (
    Schema,
    current_revision,
    names,
    schemas,
    upgrade,
)
from socialsvc_common.settings import ServiceSettings, service_config


def database_url(service: str) -> str:
    """The database the service itself would use, from the same settings it reads."""
    settings = type(
        f"{service.title()}DatabaseSettings",
        (ServiceSettings,),
        {"model_config": service_config(service.upper() + "_")},
    )
    return str(settings().database)


async def upgrade_all(selected: list[Schema], url: str | None) -> None:
    for schema in selected:
        engine = make_engine(url or database_url(schema.service))
        try:
            before = await upgrade(engine, schema)
            async with engine.connect() as connection:
                now = await connection.run_sync(current_revision, schema)
        finally:
            await engine.dispose()
        change = "already at head" if before == now else f"upgraded from {before or '(empty)'}"
        print(f"{schema.service}: {now} ({change})")


async def show_current(selected: list[Schema], url: str | None) -> int:
    behind = 0
    for schema in selected:
        engine = make_engine(url or database_url(schema.service))
        try:
            async with engine.connect() as connection:
                at = await connection.run_sync(current_revision, schema)
        finally:
            await engine.dispose()
        head = schema.head()
        state = "at head" if at == head else f"behind: head is {head}"
        behind += at != head
        print(f"{schema.service}: {at or '(none)'} ({state})")
    return 1 if behind else 0


def show_history(selected: list[Schema]) -> None:
    for schema in selected:
        print(f"== {schema.service} ({schema.versions})")
        command.history(schema.config(), indicate_current=False)


async def new_revision(schema: Schema, message: str) -> None:
    """Autogenerates against a scratch database at the head, so only the models' changes since
    the last revision are in it."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'scratch.db'}")
        try:
            await upgrade(engine, schema)
            async with engine.begin() as connection:
                await connection.run_sync(_autogenerate, schema, message)
        finally:
            await engine.dispose()


def _autogenerate(connection: Connection, schema: Schema, message: str) -> None:
    head = ScriptDirectory.from_config(schema.config()).get_current_head()
    number = int(head) + 1 if head else 1
    script = command.revision(
        schema.config(connection), message=message, autogenerate=True, rev_id=f"{number:04d}"
    )
    if isinstance(script, Script):
        _tidy(Path(script.path))


def _tidy(path: Path) -> None:
    """Drops autogenerate's banner comments; the revision is read and committed as code."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "# ###" not in line), encoding="utf-8")
    print(f"{path}: read it, run 'make format', and commit it with the models' change")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="socialsvc-db",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["upgrade", "current", "history", "revision"])
    parser.add_argument("services", nargs="+", help="service names, or all")
    parser.add_argument("--url", help="the database URL, for a single service")
    parser.add_argument("-m", "--message", help="what the new revision changes (revision only)")
    args = parser.parse_args(argv)
    configure_logging("socialsvc-db", json=False)
    # Each revision's own line is enough; Alembic's per-connection chatter is not.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        selected = names(args.services, schemas())
    except KeyError as error:
        parser.error(str(error.args[0]))
    if args.url and len(selected) != 1:
        parser.error("--url names the database of one service")
    if args.action == "upgrade":
        asyncio.run(upgrade_all(selected, args.url))
    elif args.action == "current":
        return asyncio.run(show_current(selected, args.url))
    elif args.action == "history":
        show_history(selected)
    else:
        if len(selected) != 1 or not args.message:
            parser.error("revision takes one service and -m MESSAGE")
        asyncio.run(new_revision(selected[0], args.message))
    return 0


if __name__ == "__main__":
    sys.exit(main())
