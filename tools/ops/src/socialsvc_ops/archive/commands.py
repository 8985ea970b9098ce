"""`socialsvc-ops archive run|query|replay|prune|forget`: each parses its options and hands over.

Every command reads ARCHIVE_* settings (database, Kafka, master key, retention policy)."""

import asyncio
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar
from uuid import UUID

import typer
from pydantic import ValidationError

from socialsvc_common.contract.topics import REGISTRY
from socialsvc_common.db import transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.logs import configure_logging
from socialsvc_common.migrations import SchemaNotAtHeadError
from socialsvc_ops.archive import keys, replay, store, view
from socialsvc_ops.archive.reading import kept
from socialsvc_ops.archive.recorder import Recorder
from socialsvc_ops.archive.retention import InvalidPolicy
from socialsvc_ops.archive.runtime import Archive, opened
from socialsvc_ops.archive.settings import ArchiveSettings
from socialsvc_ops.moments import parse_since

archive = typer.Typer(
    no_args_is_help=True,
    help="The audit archive: every event, kept by policy, personal data encrypted.",
)
T = TypeVar("T")

Application = Annotated[UUID | None, typer.Option(help="application id")]
Actor = Annotated[str | None, typer.Option(help="who acted, as role:name")]
Types = Annotated[list[str] | None, typer.Option("--type", help="event type or topic")]
Since = Annotated[str | None, typer.Option(help="from this long ago (3d) or this ISO time")]
Until = Annotated[str | None, typer.Option(help="before this long ago or this ISO time")]
Limit = Annotated[int | None, typer.Option(min=1, help="at most this many, oldest first")]


def _settings() -> ArchiveSettings:
    """The ARCHIVE_* settings; a bad one ends the command naming the field (never its value,
    which may be a password)."""
    try:
        return ArchiveSettings()
    except ValidationError as error:
        reasons = "; ".join(
            f"ARCHIVE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            if e["loc"]
            else e["msg"].removeprefix("Value error, ")
            for e in error.errors()
        )
        view.errors.print(f"archive: {reasons}", markup=False)
        raise typer.Exit(2) from None


def _with_archive(
    work: Callable[[Archive], Awaitable[T]], settings: ArchiveSettings | None = None
) -> T:
    """Runs `work` on the opened archive; a policy or schema problem ends the command with the
    reason instead of a traceback."""

    async def run() -> T:
        async with opened(settings or _settings()) as opened_archive:
            return await work(opened_archive)

    try:
        return asyncio.run(run())
    except (InvalidPolicy, SchemaNotAtHeadError) as error:
        view.errors.print(f"archive: {error}", markup=False)
        raise typer.Exit(1) from None


def _filter(
    *,
    application: UUID | None,
    actor: str | None,
    types: list[str] | None,
    since: str | None,
    until: str | None,
    limit: int | None,
) -> store.Filter:
    return store.Filter(
        application_id=application,
        actor=actor,
        types=frozenset(types or ()),
        since=parse_since(since),
        until=parse_since(until),
        limit=limit,
    )


@archive.command("run")
def run_command(
    topic: Annotated[
        list[str] | None, typer.Option(help="topic to archive (every registry topic by default)")
    ] = None,
) -> None:
    """Archive every topic, as a long-running consumer in its own group (Ctrl-C stops it)."""
    settings = _settings()
    configure_logging("archive", level=settings.log_level, json=settings.log_json)
    topics = topic or [t.name for t in REGISTRY]

    async def work(opened_archive: Archive) -> None:
        recorder = Recorder(
            settings, opened_archive.sessions, opened_archive.master, opened_archive.policy, topics
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, recorder.stop)
        await recorder.run()

    _with_archive(work, settings)


@archive.command("query")
def query_command(
    *,
    application: Application = None,
    actor: Actor = None,
    type_: Types = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
    payload: Annotated[bool, typer.Option(help="show each payload, personal data masked")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line")] = False,
) -> None:
    """Archived events by application, actor, type and time, oldest first."""
    wanted = _filter(
        application=application, actor=actor, types=type_, since=since, until=until, limit=limit
    )
    found = _with_archive(lambda a: kept(a, wanted))
    view.events(found, payload=payload, as_json=as_json)


@archive.command("replay")
def replay_command(
    *,
    application: Application = None,
    actor: Actor = None,
    type_: Types = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
    to: Annotated[str | None, typer.Option(help="topic to send to (each event's own)")] = None,
    skip_forgotten: Annotated[
        bool, typer.Option(help="replay the others when some were forgotten")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="show what would be sent")] = False,
) -> None:
    """Send archived events to a topic with their original key, value and headers."""
    if not any((application, actor, type_, since, until)):
        raise typer.BadParameter("choose events with at least one filter")
    wanted = _filter(
        application=application, actor=actor, types=type_, since=since, until=until, limit=limit
    )

    async def work(opened_archive: Archive) -> int:
        chosen = await kept(opened_archive, wanted)
        records = replay.outgoing(chosen, to, skip_forgotten=skip_forgotten)
        view.events(chosen, payload=False, as_json=False)
        if not dry_run and records:
            await replay.send(Producer(opened_archive.settings, client_id="archive"), records)
        return len(records)

    try:
        sent = _with_archive(work)
    except replay.ForgottenEvents as error:
        view.errors.print(f"archive: {error}", markup=False)
        raise typer.Exit(1) from None
    view.errors.print(f"{sent} events {'to replay (nothing sent)' if dry_run else 'replayed'}")


@archive.command("prune")
def prune_command(
    batch: Annotated[int, typer.Option(min=1, help="rows deleted per statement")] = 1000,
) -> None:
    """Delete the events whose retention has ended, and the data keys left unused."""

    async def work(opened_archive: Archive) -> tuple[int, int]:
        now, pruned = datetime.now(UTC), 0
        while True:
            async with transaction(opened_archive.sessions) as session:
                deleted = await store.prune_expired(session, now, batch)
            pruned += deleted
            if deleted < batch:
                break
        async with transaction(opened_archive.sessions) as session:
            return pruned, await store.drop_unused_keys(session)

    pruned, unused = _with_archive(work)
    view.errors.print(f"pruned {pruned} events past their retention, {unused} unused data keys")


@archive.command("forget")
def forget_command(application_ids: list[UUID]) -> None:
    """Crypto-shred applications: their records become unreadable, their audit trail stays."""
    destroyed = _with_archive(lambda a: keys.forget(a.sessions, application_ids))
    view.errors.print(
        f"forgot {len(set(application_ids))} applications ({destroyed} data keys destroyed)"
    )
