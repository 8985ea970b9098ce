"""The workspace's catalogues: every key in all three languages, a word for every value of the
contract a page shows, and every key a page or handler names exists."""

import re
import tomllib
from enum import StrEnum
from pathlib import Path

import pytest

from socialsvc_common.contract.appeals import AppealStatus, AppealSubject
from socialsvc_common.contract.explanation import Reason, RuleName
from socialsvc_common.contract.payloads import (
    AgeBand,
    Channel,
    DailyActivity,
    Language,
    LifeEventKind,
    Outcome,
    ProvisionType,
    ReleaseReason,
    ServiceRequested,
    TargetGroup,
)
from socialsvc_common.contract.topics import DEAD_LETTER_REPLAYED, REGISTRY
from socialsvc_common.geography import load_geography
from tests.unit.statistics_figures import SECTION_IDS
from workspace import i18n, wording
from workspace.pages import cases, facts, provider
from workspace.signin import Refusal

PACKAGE = Path(i18n.__file__).parent
WORDS = {language: i18n.catalogue(language).words for language in i18n.LANGUAGES}
ENGLISH = WORDS["en"]


@pytest.mark.parametrize("language", ["az", "ru"])
def test_every_key_exists_in_every_language(language: str) -> None:
    assert set(WORDS[language]) - set(ENGLISH) == set(), f"only in {language}"
    assert set(ENGLISH) - set(WORDS[language]) == set(), f"missing in {language}"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_no_word_is_empty_and_placeholders_agree(language: str) -> None:
    for key, text in WORDS[language].items():
        assert text.strip(), f"{language}: {key} is empty"
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", ENGLISH[key])), key


@pytest.mark.parametrize(
    ("group", "values"),
    [
        ("target_group", TargetGroup),
        ("provision_type", ProvisionType),
        ("service_requested", ServiceRequested),
        ("activity", DailyActivity),
        ("release_reason", ReleaseReason),
        ("outcome", Outcome),
        ("rule", RuleName),
        ("appeal_status", AppealStatus),
        ("appeal_subject", AppealSubject),
    ],
)
def test_every_value_of_the_contract_has_a_word(group: str, values: type[StrEnum]) -> None:
    assert {f"{group}.{v.value}" for v in values} <= set(ENGLISH)


def test_the_pages_choices_have_words() -> None:
    assert {f"visit_outcome.{o}" for o in cases.VISIT_OUTCOMES} <= set(ENGLISH)
    assert {f"service_kind.{k}" for k in provider.SERVICE_KINDS} <= set(ENGLISH)
    assert {f"fact.{name}" for name in facts.FIELDS} <= set(ENGLISH)
    assert {f"provider.done.{s}" for s in (*provider.STEPS, "release", "service")} <= set(ENGLISH)
    assert {refusal.value for refusal in Refusal} <= set(ENGLISH)
    assert {
        f"provider.{s}_{p}" for s in ("accepted", "started") for p in ("heading", "caption")
    } <= set(ENGLISH)


def test_every_event_of_a_journey_has_a_word() -> None:
    # Dead letters, replays, the e-government's submissions and public streams are no journey.
    events = {
        t.name.removesuffix(".v1")
        for t in REGISTRY
        if t.name.split(".")[0] in {"intake", "eligibility", "assignment", "notifications"}
        and "deadletter" not in t.name
        and t is not DEAD_LETTER_REPLAYED
    }
    assert {f"event.{name}" for name in events} - set(ENGLISH) == set()


def test_every_key_a_template_or_handler_names_exists() -> None:
    literal = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")
    handed = re.compile(
        r"""["']((?:case|facts|appeal|provider|search|signin|refused)\.[a-z_.]+)["']"""
    )
    named: set[str] = set()
    for path in [*PACKAGE.glob("templates/*.html"), *PACKAGE.glob("**/*.py")]:
        text = path.read_text(encoding="utf-8")
        named |= set(literal.findall(text))
        if path.suffix == ".py":
            named |= set(handed.findall(text))
    # A key with a part added by the page ("fact." ~ name) and a template's file name are no key.
    named = {k for k in named if not k.endswith((".", "_", ".html"))}
    prefixes = {k.rsplit(".", 1)[0] for k in ENGLISH}
    missing = {k for k in named if k not in ENGLISH and k not in prefixes}
    assert missing == set()


def test_the_catalogues_are_valid_toml_with_azerbaijani_first() -> None:
    for language in i18n.LANGUAGES:
        tomllib.loads((PACKAGE / "locales" / f"{language}.toml").read_text(encoding="utf-8"))
    assert i18n.DEFAULT_LANGUAGE == "az"
    assert i18n.language_of(None) == "az"
    assert i18n.language_of("fr") == "az"


@pytest.mark.parametrize(
    ("section", "dimension", "values"),
    [
        ("served_by_direction", "direction", [p.value for p in ProvisionType]),
        ("served_by_group", "group", [g.value for g in TargetGroup] + ["protected"]),
        ("served_by_age_band", "age_band", [a.value for a in AgeBand]),
        ("applications_by_outcome", "outcome", [o.value for o in Outcome] + ["undecided"]),
        ("refusals_by_reason", "reason", [r.value for r in Reason]),
        ("messages", "channel", [c.value for c in Channel]),
        ("messages", "language", [lang.value for lang in Language]),
        ("offers", "result", ["accepted", "declined", "lapsed", "open"]),
        ("appeals", "result", ["pending", "upheld", "overturned"]),
        ("served_by_region", "region", load_geography().regions()),
        ("proactive_by_kind", "kind", [k.value for k in LifeEventKind]),
    ],
)
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_value_of_the_statistics_has_a_word(
    language: str, section: str, dimension: str, values: list[str]
) -> None:
    groups = (wording.RESULTS[section],) if dimension == "result" else wording.WORDS[dimension]
    unsaid = {v for v in values if not any(f"{g}.{v}" in WORDS[language] for g in groups)}
    assert unsaid == set()
    words = wording.Wording(i18n.catalogue(language), {})
    said = {words.key(section, dimension, value) for value in values}
    assert len(said) == len(values), "two values read alike"


def test_every_section_measure_and_month_of_the_statistics_has_a_word() -> None:
    assert {f"stats.section.{s}" for s in SECTION_IDS} <= set(ENGLISH)
    assert {f"stats.about.{s}" for s in SECTION_IDS} <= set(ENGLISH)
    assert {f"stats.month.{m}" for m in range(1, 13)} <= set(ENGLISH)
    measures = [
        "people",
        "projects",
        "applications",
        "waiting_now",
        "waited_median_days",
        "waited_p90_days",
        "offers",
        "median_days",
        "p90_days",
        "delivered",
        "failed",
        "appeals",
        "overdue",
        "capacity",
        "in_service",
        "fill_percent",
        "contract_start",
        "contract_end",
        "life_events",
        "likely",
        "offered",
        "accepted",
        "declined",
        "lapsed",
        "placed",
    ]
    assert {f"stats.measure.{m}" for m in measures} <= set(ENGLISH)
