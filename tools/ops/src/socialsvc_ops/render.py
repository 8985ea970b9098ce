"""How the commands print: rich tables for people, one JSON object a line with --json for scripts.

Everything printed here has been masked already (records.Seen.summary, redacted reasons); the
tables show ids, types, times and figures only.
"""

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from socialsvc_ops.deadletters import Letter
from socialsvc_ops.lag import PartitionLag
from socialsvc_ops.records import Seen
from socialsvc_ops.trace import Step

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def json_line(value: dict[str, Any]) -> None:
    print(json.dumps(value, ensure_ascii=False, default=str), flush=True)


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 1:
        return f"+{value * 1000:.0f} ms"
    if value < 120:
        return f"+{value:.1f} s"
    return f"+{value / 60:.1f} min"


def record_line(seen: Seen, *, as_json: bool) -> None:
    summary = seen.summary()
    if as_json:
        json_line(summary)
        return
    console.print(
        f"[dim]{summary['time']}[/] [bold]{summary['type']}[/] "
        f"{summary['application_id'] or '-'} [dim]{seen.topic}/{seen.partition}@{seen.offset}[/]"
    )
    console.print(json.dumps(summary["payload"], ensure_ascii=False), markup=False)


def journey(application_id: str, steps: list[Step], *, as_json: bool) -> None:
    if as_json:
        for step in steps:
            json_line(step.as_dict())
        return
    table = Table(title=f"Journey of {application_id}")
    for column in ("time", "gap", "step", "by", "detail", "where"):
        table.add_column(column)
    for step in steps:
        row = step.as_dict()
        detail = ", ".join(f"{k}={v}" for k, v in row["detail"].items())
        where = f"{row['topic']}/{row['partition']}@{row['offset']}"
        by = row["actor"] or ""
        table.add_row(row["time"], seconds(step.gap_seconds), row["type"], by, detail, where)
    console.print(table)


def lag(rows: Iterable[PartitionLag], *, as_json: bool) -> None:
    now = datetime.now(UTC)
    items = [row.as_dict(now) for row in rows]
    if as_json:
        for item in items:
            json_line(item)
        return
    table = Table(title="Consumer lag")
    for column in ("group", "topic", "partition", "committed", "end", "lag", "oldest waiting"):
        table.add_column(
            column, justify="right" if column in {"committed", "end", "lag"} else "left"
        )
    for item in items:
        waiting = item["waiting_seconds"]
        behind = f"{item['oldest_unconsumed']} ({seconds(waiting)})" if waiting is not None else ""
        table.add_row(
            item["group"],
            item["topic"],
            str(item["partition"]),
            str(item["committed"]),
            str(item["end"]),
            str(item["lag"]),
            behind,
        )
    console.print(table)


def letters(found: Iterable[Letter], *, as_json: bool) -> None:
    items = [letter.as_dict() for letter in found]
    if as_json:
        for item in items:
            json_line(item)
        return
    table = Table(title="Dead letters")
    for column in (
        "where",
        "failed at",
        "consumer",
        "original",
        "application",
        "reason",
        "replayed",
    ):
        table.add_column(column)
    for item in items:
        table.add_row(
            f"{item['topic']}/{item['partition']}@{item['offset']}",
            str(item.get("failed_at", "")),
            str(item.get("consumer", "")),
            f"{item.get('original_topic', '')}/{item.get('original_partition', '')}"
            f"@{item.get('original_offset', '')}",
            str(item["application_id"] or ""),
            f"{item['error_class']}: {item.get('error_message', '')}",
            ", ".join(item["replayed"]),
        )
    console.print(table)
