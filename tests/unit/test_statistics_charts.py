"""The statistics page's bar charts and numbers, laid out without a page: a withheld figure is a
stub of its own, never a bar of nought; time and age keep their order, the rest the largest
first; a long section charts its largest and says how many rows there are."""

from workspace.charts import MOST_BARS, STUB, chart, ordered, table_rows
from workspace.figures import Row, Section
from workspace.i18n import catalogue
from workspace.wording import Wording


def section(section_id: str, dimension: str, counts: dict[str, int | None]) -> Section:
    rows = [
        Row(
            keys={dimension: key},
            values={"people": n},
            suppressed=[] if n is not None else ["people"],
        )
        for key, n in counts.items()
    ]
    return Section(id=section_id, dimensions=[dimension], measures=["people"], rows=rows)


def drawn(found: Section, k: int = 5) -> dict[str, tuple[float, str, bool]]:
    laid = chart(
        found, k, lambda row: str(row.keys[found.dimensions[0]]), lambda v, _: str(v), "<5"
    )
    assert laid is not None
    return {bar.label: (bar.width, bar.text, bar.withheld) for bar in laid.bars}


def test_a_withheld_figure_is_a_labelled_stub_and_a_nought_is_no_bar() -> None:
    bars = drawn(section("served_by_district", "district", {"a": 400, "b": None, "c": 0}))
    assert bars["b"][1:] == ("<5", True)
    assert bars["b"][0] >= STUB
    assert bars["c"] == (0.0, "0", False)
    assert bars["a"][0] > bars["b"][0]


def test_the_largest_bar_fills_the_area_and_the_others_are_in_proportion() -> None:
    bars = drawn(section("served_by_direction", "direction", {"x": 1000, "y": 250}))
    assert bars["y"][0] == round(bars["x"][0] / 4, 1)


def test_months_keep_their_order_and_the_rest_are_largest_first() -> None:
    by_month = section("served_by_month", "month", {"2026-03": 5, "2026-01": 9, "2026-02": 7})
    assert [r.keys["month"] for r in ordered(by_month, "people", 5)] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    mixed = section("served_by_region", "region", {"a": 6, "b": None, "c": 90, "d": 0})
    assert [r.keys["region"] for r in ordered(mixed, "people", 5)] == ["c", "a", "b", "d"]


def test_a_long_section_charts_its_largest_and_its_table_lists_all() -> None:
    many = section("served_by_provider", "provider", {f"p{i}": i for i in range(60)})
    laid = chart(many, 5, lambda row: str(row.keys["provider"]), lambda v, _: str(v), "<5")
    assert laid is not None
    assert (laid.rows_shown, laid.rows_all) == (MOST_BARS, 60)
    assert laid.bars[0].label == "p59"
    assert len(table_rows(many, 5)) == 60


def test_a_section_without_rows_has_no_chart() -> None:
    assert chart(section("offers", "result", {}), 5, str, lambda v, _: str(v), "<5") is None


def test_numbers_are_written_as_each_language_writes_them() -> None:
    words = {language: Wording(catalogue(language), {}) for language in ("az", "ru", "en")}
    assert words["en"].number(20104) == "20,104"
    assert words["az"].number(20104) == "20\u202f104"
    assert words["ru"].number(38.5, "waited_median_days") == "38,5"
    assert words["en"].number(86.66, "fill_percent") == "86.7 %"
    assert words["en"].number("2027-06-30", "contract_end") == "30.06.2027"
    assert words["az"].month("2026-05") == "May 2026"
    assert words["ru"].month("2026-13") == "2026-13"
