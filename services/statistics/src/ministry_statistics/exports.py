"""The figures as files: CSV in long format and an XLSX workbook, from the answer as it may leave
the service (so a withheld value is written `<k`, never the count behind it)."""

import csv
import io
from collections.abc import Iterator
from typing import Any

import xlsxwriter

TOTAL = "total"
# Excel's limit on a sheet name's length.
SHEET_NAME_LENGTH = 31


def withheld_mark(answer: dict[str, Any]) -> str:
    return f"<{answer['policy']['min_cell']}"


def _cell(value: Any, withheld: bool, mark: str) -> Any:
    if withheld:
        return mark
    return "" if value is None else value


def _lines(answer: dict[str, Any]) -> Iterator[list[Any]]:
    mark = withheld_mark(answer)
    for section in answer["sections"]:
        for row in section["rows"]:
            keys = [f"{name}={'' if key is None else key}" for name, key in row["keys"].items()]
            for measure, value in row["values"].items():
                hidden = measure in row["suppressed"]
                yield [section["id"], *keys, measure, _cell(value, hidden, mark)]
        total = section.get("total")
        if total is not None:
            for measure, value in total["values"].items():
                hidden = measure in total["suppressed"]
                yield [section["id"], TOTAL, measure, _cell(value, hidden, mark)]


def csv_text(answer: dict[str, Any]) -> str:
    """`section,<dimension>=<key>...,measure,value` lines; a total's key column reads `total`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(_lines(answer))
    return out.getvalue()


def xlsx_bytes(answer: dict[str, Any]) -> bytes:
    """A workbook: the sheet `about` (filters, policy version, k), then one sheet per section
    with a header row, its rows and its total."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    about = workbook.add_worksheet("about")
    facts: list[tuple[str, Any]] = [
        *((name, "" if value is None else value) for name, value in answer["filters"].items()),
        ("policy_version", answer["policy"]["version"]),
        ("min_cell", answer["policy"]["min_cell"]),
        ("as_of", answer["as_of"]),
    ]
    for index, (name, value) in enumerate(facts):
        about.write(index, 0, name, bold)
        about.write(index, 1, value)
    mark = withheld_mark(answer)
    for section in answer["sections"]:
        sheet = workbook.add_worksheet(section["id"][:SHEET_NAME_LENGTH])
        key_names = _key_names(section)
        header = [*key_names, *section["measures"]]
        sheet.write_row(0, 0, header, bold)
        for index, row in enumerate(section["rows"], start=1):
            keys = [
                "" if row["keys"].get(name) is None else row["keys"][name] for name in key_names
            ]
            values = [
                _cell(row["values"][m], m in row["suppressed"], mark) for m in section["measures"]
            ]
            sheet.write_row(index, 0, [*keys, *values])
        total = section.get("total")
        if total is not None:
            values = [
                _cell(total["values"].get(m), m in total["suppressed"], mark)
                for m in section["measures"]
            ]
            padding = [""] * (len(key_names) - 1)
            sheet.write_row(len(section["rows"]) + 1, 0, [TOTAL, *padding, *values], bold)
    workbook.close()
    return out.getvalue()


def _key_names(section: dict[str, Any]) -> list[str]:
    """The dimensions, then any other keys the rows carry (an NGO project's organisation, name)."""
    names = list(section["dimensions"])
    for row in section["rows"]:
        names += [name for name in row["keys"] if name not in names]
    return names
