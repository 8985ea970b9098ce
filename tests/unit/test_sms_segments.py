"""SMS segment counting: GSM 7-bit at 160/153, UCS-2 at 70/67, extension characters count twice."""

import random

import pytest

from notifications.sms import GSM7_BASIC, GSM7_EXTENSION, encoding, segments

SCHWA = "ə"


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_latin_text_is_gsm7_at_160_then_153_per_segment(length: int, expected: int) -> None:
    text = "a" * length
    assert encoding(text) == "gsm7"
    assert segments(text) == expected


@pytest.mark.parametrize(("length", "expected"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3)])
def test_azerbaijani_text_is_ucs2_at_70_then_67_per_segment(length: int, expected: int) -> None:
    text = SCHWA * length
    assert encoding(text) == "ucs2"
    assert segments(text) == expected


@pytest.mark.parametrize("letter", ["ə", "ğ", "\N{LATIN SMALL LETTER DOTLESS I}", "ş", "ç", "Ə"])
def test_azerbaijani_letters_outside_gsm7_force_ucs2(letter: str) -> None:
    assert encoding(f"Salam {letter}") == "ucs2"


def test_o_and_u_umlaut_and_capital_c_cedilla_are_gsm7() -> None:
    assert encoding("Gömrük Çay") == "gsm7"


def test_one_azerbaijani_letter_turns_a_latin_text_into_ucs2() -> None:
    assert segments("a" * 69 + SCHWA) == 1
    assert segments("a" * 70 + SCHWA) == 2


def test_extension_characters_count_two_septets() -> None:
    assert segments("€" * 80) == 1  # 160 septets
    assert segments("€" * 81) == 2
    assert segments("a" * 159 + "[") == 2
    assert segments("a" * 158 + "{") == 1
    assert encoding("{[~]}|^\\€") == "gsm7"


def test_an_escape_sequence_is_not_split_between_segments() -> None:
    # 306 septets would fit two segments, but the euro sign cannot straddle the boundary.
    assert segments("a" * 152 + "€" + "a" * 152) == 3


def test_characters_outside_the_bmp_count_two_utf16_units() -> None:
    assert segments("🙂" * 35) == 1  # 70 code units
    assert segments("🙂" * 36) == 2


def test_cyrillic_is_ucs2() -> None:
    assert encoding("Здравствуйте") == "ucs2"
    assert segments("я" * 70) == 1


def test_the_alphabet_tables_are_complete() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes less the escape
    assert len(GSM7_EXTENSION) == 10


def test_an_empty_text_still_costs_a_segment() -> None:
    assert segments("") == 1


def _counted_one_by_one(text: str) -> int:
    """The rule spelled out character by character, for every text alike."""
    gsm7 = all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)
    single, concatenated = (160, 153) if gsm7 else (70, 67)
    units = [
        (2 if ch in GSM7_EXTENSION else 1) if gsm7 else len(ch.encode("utf-16-le")) // 2
        for ch in text
    ]
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > concatenated:
            count, used = count + 1, 0
        used += unit
    return count


@pytest.mark.parametrize(
    "alphabet",
    ["ab ", "ab€", "aə", "яз", "a🙂", "ə🙂€", "Gömrük Çay"],
    ids=["latin", "extension", "azerbaijani", "cyrillic", "emoji", "mixed", "gsm7-letters"],
)
def test_the_count_agrees_with_the_rule_character_by_character(alphabet: str) -> None:
    rng = random.Random(alphabet)
    for length in [*range(60, 80), *range(130, 170), *range(300, 320)]:
        text = "".join(rng.choice(alphabet) for _ in range(length))
        assert segments(text) == _counted_one_by_one(text), text
