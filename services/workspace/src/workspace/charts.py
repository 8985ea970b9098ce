"""A section's figures as a horizontal bar chart, laid out here and drawn as inline SVG by the
page's template (no script, no library). Pure: rows in, bars with their places out.

A withheld figure is drawn as a hatched stub with a dashed edge, labelled "fewer than k", so it
never reads as nought; a section with many rows charts its largest and the table lists all."""

from collections.abc import Callable
from dataclasses import dataclass

from workspace.figures import Row, Section, Value

# What a section charts when its first measure is not the telling one.
CHARTED = {
    "messages": ("delivered", "failed"),
    "time_to_service": ("median_days",),
    "ngo_projects": ("fill_percent",),
    # The funnel from the ministry's offer to a place.
    "proactive_by_kind": ("offered", "placed"),
    "proactive_by_district": ("offered", "placed"),
}
# Dimensions whose order is their meaning (time, age) or fixed (every kind of life event, always
# shown); the others chart the largest first.
IN_ORDER = frozenset({"month", "age_band", "outcome", "result", "kind"})
MOST_BARS = 20
WIDTH = 600
BAR = 20
GAP = 8
LEGEND = 28
STUB = 24
LABEL_CHARS = 30
CHAR_WIDTH = 7.5
VALUE_SPACE = 120


@dataclass(frozen=True)
class Bar:
    label: str  # the row in words, in full (the bar's title)
    short: str  # as drawn beside the bar
    series: int
    withheld: bool
    text: str  # the value as the bar's label reads it
    y: float
    width: float


@dataclass(frozen=True)
class Chart:
    measures: tuple[str, ...]
    bars: tuple[Bar, ...]
    label_width: int
    height: int
    rows_shown: int
    rows_all: int
    legend: bool

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def bar_height(self) -> int:
        return BAR


def charted(section: Section) -> tuple[str, ...]:
    wanted = CHARTED.get(section.id, tuple(section.measures[:1]))
    return tuple(m for m in wanted if m in section.measures)


def _number(value: Value) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def ordered(section: Section, measure: str, k: int, most: int | None = MOST_BARS) -> list[Row]:
    """The rows in the order a chart and its table show them; at most `most` of the largest."""
    if section.dimensions and section.dimensions[0] in IN_ORDER:
        rows = list(section.rows)
        if section.dimensions[0] == "month":
            rows.sort(key=lambda row: row.keys.get("month") or "")
        return rows

    def size(row: Row) -> float:
        # A withheld figure is between 1 and k-1: it sorts just below k.
        return k - 0.5 if row.withheld(measure) else _number(row.values.get(measure))

    return sorted(section.rows, key=size, reverse=True)[:most]


def shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def chart(
    section: Section,
    k: int,
    label_of: Callable[[Row], str],
    text_of: Callable[[Value, str], str],
    fewer: str,
) -> Chart | None:
    """The bars of `section`'s charted measures; None when it has no rows to chart. `label_of`
    names a row, `text_of(value, measure)` writes a value, `fewer` is "fewer than k"."""
    measures = charted(section)
    if not measures or not section.rows:
        return None
    rows = ordered(section, measures[0], k)
    labels = [label_of(row) for row in rows]
    longest = max(len(shorten(label)) for label in labels)
    label_width = max(80, min(int(CHAR_WIDTH * longest) + 12, 240))
    area = WIDTH - label_width - VALUE_SPACE
    largest = max(
        [float(k)] + [_number(row.values.get(m)) for row in rows for m in measures],
    )
    top = LEGEND if len(measures) > 1 else 4
    pitch = BAR * len(measures) + GAP
    bars = []
    for place, (row, label) in enumerate(zip(rows, labels, strict=True)):
        for series, measure in enumerate(measures):
            withheld = row.withheld(measure)
            value = row.values.get(measure)
            width = max(STUB, area * k / largest) if withheld else area * _number(value) / largest
            bars.append(
                Bar(
                    label=label,
                    short=shorten(label),
                    series=series,
                    withheld=withheld,
                    text=fewer if withheld else text_of(value, measure),
                    y=top + place * pitch + series * BAR,
                    width=round(width, 1),
                )
            )
    return Chart(
        measures=measures,
        bars=tuple(bars),
        label_width=label_width,
        height=top + len(rows) * pitch,
        rows_shown=len(rows),
        rows_all=len(section.rows),
        legend=len(measures) > 1,
    )


def table_rows(section: Section, k: int) -> list[Row]:
    """Every row of the section, in its chart's order."""
    measures = charted(section)
    return ordered(section, measures[0], k, None) if measures else list(section.rows)
