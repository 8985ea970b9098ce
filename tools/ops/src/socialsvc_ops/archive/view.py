"""How the archive commands print: a table of clear fields, or one JSON object a line."""

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from socialsvc_ops.archive.reading import Kept
from socialsvc_ops.render import json_line

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def events(found: Sequence[Kept], *, payload: bool, as_json: bool) -> None:
    if as_json:
        for item in found:
            json_line(item.summary(payload=payload))
        return
    table = Table(title=f"Archived events ({len(found)})")
    columns = ["time", "type", "application", "actor", "where", "record"]
    for column in columns + (["payload"] if payload else []):
        table.add_column(column, overflow="fold")
    for item in found:
        state = "readable" if item.readable else "forgotten"
        if item.invalid_reason:
            state = f"raw: {item.invalid_reason}"
        row = [
            item.occurred_at.isoformat(timespec="seconds"),
            item.event_type or "-",
            str(item.application_id or "-"),
            item.actor or "-",
            f"{item.topic}/{item.partition}@{item.offset}",
            state,
        ]
        if payload:
            row.append(str(item.masked_payload()))
        table.add_row(*row)
    console.print(table)
