"""hidden_text: which strings of a JSON document hold control or bidirectional-override
characters, by path."""

from socialsvc_common import edge
from socialsvc_common.edge import hidden_text


def test_ordinary_text_in_three_languages_with_line_breaks_is_clean() -> None:
    document = {
        "applicant": {"first_name": "Gülnarə", "last_name": "İsmayılova"},
        "note": "Ünvan: Bakı,\n\tNəsimi r-nu\r\nЗаявитель живёт одна. Lives alone.",
        "tags": ["ağsaqqal", "одинокий", 3, None, True],
    }
    assert list(hidden_text(document)) == []


def test_each_hidden_character_is_found_where_it_is() -> None:
    document = {
        "applicant": {"first_name": "Ley\u202ela", "last_name": "ok"},
        "notes": ["fine", "bell\x07", {"deep": "\u2069"}],
        "key\u202d": "value",
        "c1": "\x85",
        "del": "\x7f",
    }
    assert sorted(hidden_text(document)) == [
        "applicant.first_name",
        "c1",
        "del",
        "key\u202d",
        "notes.1",
        "notes.2.deep",
    ]


def test_a_bare_string_document_is_named_body() -> None:
    assert list(hidden_text("\u202a")) == ["body"]
    assert list(hidden_text("plain")) == []


def test_nesting_deeper_than_pythons_stack_is_walked() -> None:
    document: object = "\u202e"
    for _ in range(5000):
        document = [document]
    assert list(hidden_text(document)) == [".".join(["0"] * 5000)]


def test_a_body_nested_past_the_parser_is_left_to_the_route() -> None:
    assert edge._hidden_fields(b"[" * 100_000 + b"]" * 100_000) == []
