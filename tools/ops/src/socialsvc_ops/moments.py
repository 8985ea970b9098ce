"""Moments given on the command line: a span ago (90s, 15m, 2h, 3d) or an ISO time."""

import re
from datetime import UTC, datetime, timedelta

import typer

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    if found := _DURATION.match(text.strip()):
        ago = timedelta(**{_UNITS[found[2]]: int(found[1])})
        return datetime.now(UTC) - ago
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: use 90s, 15m, 2h, 3d or an ISO time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
