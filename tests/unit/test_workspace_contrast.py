"""The workspace's colours keep WCAG's contrast of 4.5:1 for text: each pair of text and
background its stylesheet uses, read from the stylesheet itself."""

import re
from pathlib import Path

import pytest

import workspace

CSS = (Path(workspace.__file__).parent / "static" / "workspace.css").read_text(encoding="utf-8")
COLOURS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colour(name: str) -> str:
    return name if name.startswith("#") else COLOURS[name]


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("ink", "paper"),
        ("muted", "paper"),
        ("muted", "band"),
        ("link", "paper"),
        ("link", "band"),
        ("ink", "focus"),
        ("ok-ink", "ok-bg"),
        ("bad-ink", "bad-bg"),
        ("warn-ink", "warn-bg"),
        ("info-ink", "info-bg"),
        ("#ffffff", "#0b2545"),  # the header
        ("#d7e3f4", "#0b2545"),  # the header's labels
        ("#ffffff", "#0f5223"),  # a button
        ("#ffffff", "bad-ink"),  # a button that ends something
        ("chart-a", "paper"),  # a bar of the statistics' charts
        ("chart-b", "paper"),  # a chart's second series
        ("paper", "chart-b"),  # the second series' stripes
        ("chart-hatch", "paper"),  # a withheld figure's hatching
    ],
)
def test_text_stands_out_from_its_background(text: str, background: str) -> None:
    assert contrast(colour(text), colour(background)) >= 4.5


def test_every_colour_pair_is_declared() -> None:
    assert {"ink", "paper", "link", "focus", "ok-ink", "bad-ink", "warn-ink"} <= set(COLOURS)
    assert {"chart-a", "chart-b", "chart-hatch"} <= set(COLOURS)


def test_the_charts_draw_with_the_stylesheets_colours_only() -> None:
    charts = (Path(workspace.__file__).parent / "templates" / "figures.html").read_text("utf-8")
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b", charts) == []
    for part in ("series-0", "series-1", "hatch-line", "withheld-stub"):
        assert re.search(rf"\.{part} {{[^}}]*var\(--", CSS), part
