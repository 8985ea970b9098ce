"""How many people a rule set would reach proactively from a year of life events.

    python -m eligibility.reach_cli --synthetic-year [--seed N] [--candidate FILE.toml] [--json]
    python -m eligibility.reach_cli --events EVENTS.jsonl [--candidate FILE.toml] [--json]

Each life event (a registry's record, one JSON object a line, as on its topic) is pre-screened as
eligibility does it live, by the rule set in force today and, with --candidate, by that one too.
It reads files only: no database, no broker. Exit status: 0 done, 2 an unreadable event file or a
refused rule file (the line or field named).
"""

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from eligibility.assessment import BAKU
from eligibility.reach import Reach, reach, synthetic_year
from eligibility.ruleset import RuleSetError, default_rule_sets, load_rule_set, rule_set_for
from socialsvc_common.contract.payloads import LifeEventKind, LifeEventRecorded


def read_events(path: Path) -> Iterator[LifeEventRecorded]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield LifeEventRecorded.model_validate_json(line)
            except ValidationError as error:
                raise ValueError(f"{path}:{number}: {error.errors()[0]['msg']}") from None


def table(found: list[Reach]) -> str:
    heads = ["life event", "events", *(f"likely ({r.rule_set_version})" for r in found)]
    rows = []
    for kind in LifeEventKind:
        events = found[0].events[kind]
        if not events:
            continue
        cells = [kind.value, f"{events:,}"]
        for result in found:
            likely = result.likely[kind]
            cells.append(f"{likely:,} ({100 * likely / events:.0f}%)")
        rows.append(cells)
    total = sum(found[0].events.values())
    rows.append(["all", f"{total:,}", *(f"{sum(r.likely.values()):,}" for r in found)])
    widths = [max(len(row[i]) for row in [heads, *rows]) for i in range(len(heads))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [heads, *rows]
    ]
    for result in found:
        lines.append(f"\ndirections named under {result.rule_set_version}:")
        for (kind, direction), n in sorted(result.directions.items()):
            lines.append(f"  {kind.value}: {direction} {n:,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eligibility.reach_cli", description=__doc__.split("\n")[0]
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", type=Path, help="life events, one JSON object a line")
    source.add_argument(
        "--synthetic-year", action="store_true", help="a year made up by eligibility.reach"
    )
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--candidate", type=Path, help="a rule set file to compare")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    today = datetime.now(UTC).astimezone(BAKU).date()
    try:
        rule_sets = [rule_set_for(default_rule_sets(), today)]
        if args.candidate:
            rule_sets.append(load_rule_set(args.candidate))
        events = list(
            synthetic_year(today, args.seed) if args.synthetic_year else read_events(args.events)
        )
    except (RuleSetError, ValueError, OSError) as error:
        print(f"reach: error: {error}", file=sys.stderr)
        return 2
    found = [reach(events, rule_set, today) for rule_set in rule_sets]
    if args.json:
        print(json.dumps([r.as_dict() for r in found], indent=2))
    else:
        print(table(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
