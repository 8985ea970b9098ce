"""`socialsvc-ops`: the operators' command line. Each command parses its options and hands over."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from socialsvc_common.apikeys import KeyStoreError
from socialsvc_common.contract.topics import REGISTRY
from socialsvc_common.logs import configure_logging
from socialsvc_ops import deadletters, render
from socialsvc_ops.archive.commands import archive
from socialsvc_ops.lag import lag_report
from socialsvc_ops.moments import parse_since
from socialsvc_ops.page.access import Access, viewers_store
from socialsvc_ops.page.app import create_app
from socialsvc_ops.page.monitor import MonitorSettings
from socialsvc_ops.page.outbox import DEFAULT_SERVICES
from socialsvc_ops.subject.cli import subject
from socialsvc_ops.tail import TailFilter, tail
from socialsvc_ops.trace import NotAnApplicationId, trace

app = typer.Typer(no_args_is_help=True, help="Watch and fix the social services platform.")
dead = typer.Typer(no_args_is_help=True, help="List and replay dead letters.")
app.add_typer(dead, name="dead-letters")
app.add_typer(archive, name="archive")
app.add_typer(subject, name="subject")

Bootstrap = Annotated[
    str,
    typer.Option(envvar="SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS", help="Kafka host:port[,host:port]"),
]
Since = Annotated[
    str | None, typer.Option(help="from this long ago (90s, 15m, 2h, 3d) or this ISO time")
]
AsJson = Annotated[bool, typer.Option("--json", help="one JSON object a line")]
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


@app.command("tail")
def tail_command(
    *,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    topic: Annotated[
        list[str] | None, typer.Option(help="topic to follow (all by default)")
    ] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="event type or topic")] = None,
    application: Annotated[str | None, typer.Option(help="application id")] = None,
    district: Annotated[str | None, typer.Option(help="district or city")] = None,
    since: Since = None,
    limit: Annotated[int | None, typer.Option(help="stop after this many records")] = None,
    as_json: AsJson = False,
) -> None:
    """Live events, personal data masked (from now on, or from --since)."""
    topics = topic or [t.name for t in REGISTRY]
    wanted = TailFilter(frozenset(type_ or ()), application, district)

    async def run() -> None:
        shown = 0

        def ready() -> None:
            render.errors.print(f"following {len(topics)} topics", style="dim")

        async for seen in tail(bootstrap, topics, wanted, since=parse_since(since), ready=ready):
            render.record_line(seen, as_json=as_json)
            shown += 1
            if limit is not None and shown >= limit:
                return

    asyncio.run(run())


@app.command("trace")
def trace_command(
    application_id: str,
    *,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    since: Since = None,
    as_json: AsJson = False,
) -> None:
    """One application's journey across every topic, in time order, with the gaps."""
    try:
        steps = asyncio.run(trace(bootstrap, application_id, since=parse_since(since)))
    except NotAnApplicationId as error:
        raise typer.BadParameter(str(error)) from None
    if not steps:
        render.errors.print(f"no events about {application_id}")
        raise typer.Exit(1)
    render.journey(application_id, steps, as_json=as_json)


@app.command("lag")
def lag_command(
    *,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    group: Annotated[list[str] | None, typer.Option(help="consumer group (all by default)")] = None,
    behind: Annotated[bool, typer.Option(help="only partitions with lag")] = False,
    as_json: AsJson = False,
) -> None:
    """Per consumer group and partition: committed, end, lag and the oldest record waiting."""
    rows = asyncio.run(lag_report(bootstrap, group))
    render.lag([r for r in rows if r.lag or not behind], as_json=as_json)


Consumer = Annotated[str | None, typer.Option(help="intake, eligibility, assignment, ...")]


@dead.command("list")
def list_command(
    *,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    consumer: Consumer = None,
    since: Since = None,
    as_json: AsJson = False,
) -> None:
    """Dead letters with the reason each was given up on, and when each was replayed."""
    chosen = [consumer] if consumer else None
    found = asyncio.run(deadletters.letters(bootstrap, chosen, since=parse_since(since)))
    render.letters(found, as_json=as_json)


def _position(text: str) -> deadletters.Position:
    topic, _, rest = text.rpartition(":")
    partition, _, offset = rest.partition("@")
    if not topic or not partition.isdigit() or not offset.isdigit():
        raise typer.BadParameter(f"{text!r}: use TOPIC:PARTITION@OFFSET")
    return (topic, int(partition), int(offset))


@dead.command("replay")
def replay_command(
    *,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    at: Annotated[list[str] | None, typer.Option(help="TOPIC:PARTITION@OFFSET")] = None,
    consumer: Consumer = None,
    original_topic: Annotated[str | None, typer.Option()] = None,
    error_class: Annotated[str | None, typer.Option()] = None,
    application: Annotated[str | None, typer.Option(help="application id")] = None,
    again: Annotated[bool, typer.Option(help="also letters replayed before")] = False,
    dry_run: Annotated[bool, typer.Option(help="show what would be replayed")] = False,
    as_json: AsJson = False,
) -> None:
    """Send chosen dead letters back to their original topic, and record each replay."""
    choice = deadletters.Choice(
        frozenset(_position(a) for a in at or ()),
        consumer,
        original_topic,
        error_class,
        application,
        include_replayed=again,
    )
    if not choice.positions and not any((consumer, original_topic, error_class, application)):
        raise typer.BadParameter("choose letters with --at or at least one filter")
    found = asyncio.run(deadletters.letters(bootstrap))
    chosen = [letter for letter in found if choice.picks(letter)]
    missing = choice.positions - {letter.position for letter in chosen}
    if missing:
        raise typer.BadParameter(f"no dead letter at {sorted(missing)}")
    render.letters(chosen, as_json=as_json)
    if dry_run or not chosen:
        render.errors.print(f"{len(chosen)} to replay (nothing sent)")
        return
    try:
        operator = deadletters.operator()
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    try:
        done = asyncio.run(deadletters.replay(bootstrap, chosen, operator))
    except deadletters.NotReplayable as error:
        raise typer.BadParameter(str(error)) from None
    render.errors.print(f"replayed {len(done)} dead letters")


def _services(given: list[str] | None) -> dict[str, str]:
    if not given:
        return dict(DEFAULT_SERVICES)
    found = {}
    for text in given:
        name, sep, url = text.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"{text!r}: use NAME=http://host:port")
        found[name] = url
    return found


def _read_key(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        key = path.read_text().strip()
    except OSError as error:
        raise typer.BadParameter(str(error), param_hint="--metrics-key-file") from None
    if not key:
        raise typer.BadParameter(f"{path} is empty", param_hint="--metrics-key-file")
    return key


@app.command("serve")
def serve_command(
    *,
    bootstrap: Bootstrap = DEFAULT_BOOTSTRAP,
    keys_file: Annotated[
        Path | None,
        typer.Option(
            envvar="OPS_API_KEYS_FILE",
            help="the API key store (socialsvc-keys); operator and administrator keys may log in",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="SOCIALSVC_OPS_PORT")] = 8080,
    service: Annotated[
        list[str] | None,
        typer.Option(help="NAME=URL of a service's /metrics (the four by default)"),
    ] = None,
    metrics_key_file: Annotated[
        Path | None,
        typer.Option(
            envvar="OPS_METRICS_KEY_FILE",
            help="a file holding a monitor key, to read the services' /metrics (outbox ages)",
        ),
    ] = None,
    group: Annotated[list[str] | None, typer.Option(help="consumer group to watch")] = None,
    since: Annotated[str, typer.Option(help="count applications seen since")] = "24h",
) -> None:
    """The live operations page (stages, rates, lag, dead letters, outbox age, journeys), for
    operators and administrators: log in with an API key, or send it as X-API-Key."""
    try:
        store = viewers_store(keys_file)
    except KeyStoreError as error:
        raise typer.BadParameter(str(error), param_hint="--keys-file") from None
    services = _services(service)
    settings = MonitorSettings(
        bootstrap=bootstrap,
        since=parse_since(since) or datetime.now(UTC),
        groups=group or list(services),
        services=services,
        metrics_key=_read_key(metrics_key_file),
    )
    configure_logging("socialsvc-ops", level="INFO")
    render.errors.print(f"operations page on http://{host}:{port}/ (log in with an operator key)")
    # Our logging (with its redaction) for uvicorn's lines too; no access log, which would
    # only repeat paths.
    uvicorn.run(
        create_app(settings, Access(store)),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )


def main() -> None:
    app()
