"""Checks a candidate rule file before activation, naming the line and the field at fault.

A candidate is refused for TOML syntax errors, unknown fields (an unknown fact, such as a weight for
an activity that does not exist), wrong types, values out of range, missing fields, an
`effective_to` before `effective_from`, and dates that collide with the versions already active.

Dates collide when:
- the version is already active with different content (an identical one is a harmless repeat);
- another version takes effect on the same day (no rule could choose between them);
- two closed ranges [effective_from, effective_to] share a day (neither is meant to give way).

An open-ended version is superseded by any later start: `rule_set_for` lets the version that took
effect last win. So a new version may start inside an open-ended one, or inside a closed one (which
then ends early: activated versions are immutable, so an old end date cannot be corrected), and a
closed version inside an open-ended one applies for its days, after which the open one resumes.
"""

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from eligibility.ruleset import RuleSet

Path_ = tuple[str, ...]

TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
BARE_KEY = r"[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*"
KEY = re.compile(rf"^\s*({BARE_KEY})\s*=\s*(.*)$")
INLINE_KEY = re.compile(rf"[{{,]\s*({BARE_KEY})\s*=")
WORD = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a candidate: where (line 1-based, None if nowhere), what, and why."""

    line: int | None
    field: str
    reason: str


def check(path: Path | str, existing: Sequence[RuleSet]) -> list[Finding]:
    """Everything wrong with the rule file at `path`, given the versions already active."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [Finding(None, "file", f"cannot read rule file: {error}")]
    return check_text(text, existing)


def check_text(text: str, existing: Sequence[RuleSet]) -> list[Finding]:
    """Everything wrong with a rule document, given the versions already active."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return [_syntax_finding(error, text)]
    lines = key_lines(text)
    try:
        candidate = RuleSet.model_validate(data)
    except ValidationError as error:
        return [_field_finding(detail, data, lines) for detail in error.errors()]
    return collisions(candidate, existing, lines)


def collisions(
    candidate: RuleSet, existing: Sequence[RuleSet], lines: dict[Path_, int]
) -> list[Finding]:
    """The date rules of the module docstring, checked against each active version."""
    findings = []
    for other in existing:
        if other.version == candidate.version:
            if not same_content(other, candidate):
                reason = f"version {other.version} is already active with different content"
                findings.append(
                    Finding(lines.get(("version",)), "version", reason + "; number it anew")
                )
            continue
        if other.effective_from == candidate.effective_from:
            reason = f"{other.version} already takes effect on {other.effective_from}"
            findings.append(Finding(lines.get(("effective_from",)), "effective_from", reason))
        elif _closed_ranges_meet(candidate, other):
            reason = (
                f"{_span(candidate)} shares days with {other.version} ({_span(other)}); "
                "two closed versions may not overlap"
            )
            findings.append(Finding(lines.get(("effective_from",)), "effective_from", reason))
    return findings


def same_content(one: RuleSet, other: RuleSet) -> bool:
    """Whether two rule sets decide alike; comments, layout and defaults written out may differ."""
    # Compared as data: model equality would also compare which optional fields were written out.
    return one.model_dump() == other.model_dump()


def _closed_ranges_meet(one: RuleSet, other: RuleSet) -> bool:
    if one.effective_to is None or other.effective_to is None:
        return False
    return one.effective_from <= other.effective_to and other.effective_from <= one.effective_to


def _span(rule_set: RuleSet) -> str:
    return f"{rule_set.effective_from} to {rule_set.effective_to or 'open'}"


def _syntax_finding(error: tomllib.TOMLDecodeError, text: str) -> Finding:
    message = str(error)
    position = TOML_POSITION.search(message)
    if position is None:
        return Finding(None, "syntax", message)
    reason = message[: position.start()]
    if position.group(1) is None:
        return Finding(len(text.splitlines()) or 1, "syntax", f"{reason} at end of file")
    return Finding(int(position.group(1)), "syntax", f"{reason} (column {position.group(2)})")


def _field_finding(detail: ErrorDetails, data: dict[str, Any], lines: dict[Path_, int]) -> Finding:
    # Dict keys are reported as (..., key, "[key]"); the key itself is what is wrong.
    loc = tuple(part for part in detail["loc"] if part != "[key]")
    if detail["type"] == "value_error":
        # Validators of a whole table report at the table; the field they name is more useful.
        loc = _named_in(detail["msg"], data, loc)
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    keys = tuple(str(part) for part in loc if not isinstance(part, int))
    return Finding(_nearest_line(keys, lines), field.lstrip(".") or "rule set", _reason(detail))


def _reason(detail: ErrorDetails) -> str:
    kind, message = detail["type"], detail["msg"].removeprefix("Value error, ")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        known = ", ".join(_known_fields(detail["loc"]))
        return f"unknown field; expected one of: {known}" if known else "unknown field"
    if kind == "value_error" or isinstance(detail["input"], dict | list):
        return message
    return f"{message} (got {detail['input']!r})"


def _known_fields(loc: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = RuleSet
    for part in loc[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _named_in(message: str, data: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The first key under `loc` (searched to two levels) that the message names, else `loc`."""
    table = data
    for part in loc:
        table = table[part]
    if not isinstance(table, dict):
        return loc
    for word in WORD.findall(message):
        if word in table:
            return (*loc, word)
        for name, child in table.items():
            if isinstance(child, dict) and word in child:
                return (*loc, name, word)
    return loc


def _nearest_line(keys: Path_, lines: dict[Path_, int]) -> int | None:
    # A missing or unknown key has no line of its own: its table's header is the next best.
    for end in range(len(keys), 0, -1):
        if keys[:end] in lines:
            return lines[keys[:end]]
    return None


def key_lines(text: str) -> dict[Path_, int]:
    """The first line (1-based) at which each table and key path appears in a TOML document.

    Understands `[a.b]` headers, dotted keys (`weights.washing = 3`) and inline tables
    (`x = { a = 1 }`); a parent path maps to the first line that opens it. Bare keys only, which is
    all a rule set uses; a quoted key falls back to its table's line.
    """
    lines: dict[Path_, int] = {}
    table: Path_ = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if header := HEADER.match(line):
            table = _split(header.group(1))
            _record(lines, table, number)
        elif key := KEY.match(line):
            path = (*table, *_split(key.group(1)))
            _record(lines, path, number)
            for inner in INLINE_KEY.findall(key.group(2)):
                _record(lines, (*path, *_split(inner)), number)
    return lines


def _split(dotted: str) -> Path_:
    return tuple(part.strip() for part in dotted.split("."))


def _record(lines: dict[Path_, int], path: Path_, number: int) -> None:
    for end in range(1, len(path) + 1):
        lines.setdefault(path[:end], number)
