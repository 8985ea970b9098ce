"""The report: a table on the terminal and the same rows, with their details, as JSON."""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaos.check import STALLED


@dataclass
class Row:
    scenario: str
    applications: int
    lost: int
    duplicated: int
    dead_lettered: int
    drain_seconds: float | None
    details: dict[str, Any] = field(default_factory=dict)


COLUMNS = ("scenario", "applications", "lost", "duplicated", "dead-lettered", "drain (s)")


def table(rows: list[Row]) -> str:
    lines = [
        (
            row.scenario,
            str(row.applications),
            str(row.lost),
            str(row.duplicated),
            str(row.dead_lettered),
            "not drained" if row.drain_seconds is None else f"{row.drain_seconds:.1f}",
        )
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *lines, strict=False)]

    def render(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))

    return "\n".join([render(COLUMNS), render(["-" * w for w in widths]), *map(render, lines)])


def write_json(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(row) for row in rows], indent=2, default=str) + "\n")


def finish(rows: list[Row], path: Path, tag: str) -> int:
    """Prints the whole report; the exit status: 1 when anything was lost or duplicated, the
    platform did not drain, or a bad record stalled its partition."""
    print()
    print(table(rows))
    print(f"\n{tag}: details in {path}")
    bad = [
        row
        for row in rows
        if row.lost or row.duplicated or row.drain_seconds is None or row.details.get(STALLED)
    ]
    return 1 if bad else 0
