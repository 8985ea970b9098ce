"""Casework's pure parts: how names are folded for the search, what a reference stands for, the
target groups' column, the search's checks and dates, and a home visit's record."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from intake.cases import (
    CaseSearch,
    fold,
    group_pattern,
    groups_of,
    groups_text,
    like_escaped,
    reference_range,
)
from intake.casework_store import DONE, HomeVisitRow
from intake.visits import VisitAlreadyRecorded, VisitOutcome, VisitPlan, VisitRecord, record
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.payloads import TargetGroup
from socialsvc_common.explanations import application_ref

WORKER = Actor.parse("social_worker:aysel")


@pytest.mark.parametrize("typed", ["İsmayılova", "ISMAYILOVA", "ismayılova", "Ismayilova"])
def test_every_i_folds_alike_so_a_worker_finds_the_name_however_they_type_it(typed: str) -> None:
    assert fold(typed) == fold("Gülnarə İsmayılova").split()[1] == "ismayilova"


def test_letters_typed_decomposed_fold_as_composed_ones() -> None:
    assert fold("Ş" + "e\u0301") == fold("ş" + "\u00e9")


def test_a_reference_stands_for_the_ids_that_begin_with_it_in_either_case_and_dash() -> None:
    application_id = uuid.uuid4()
    reference = application_ref(application_id)
    for spelled in (reference, reference.lower(), reference.replace("-", "")):
        low, high = reference_range(spelled)
        assert low <= application_id <= high
    other = uuid.UUID(int=(application_id.int + (1 << 96)) % (1 << 128))
    low, high = reference_range(reference)
    assert not low <= other <= high


def test_target_groups_round_trip_and_one_group_never_matches_a_longer_one() -> None:
    text = groups_text([TargetGroup.ELDERLY_ALONE, TargetGroup.DISABILITY])
    assert text == ",elderly_alone,disability,"
    assert groups_of(text) == ["elderly_alone", "disability"]
    assert groups_of(groups_text([])) == []
    assert f",{TargetGroup.ELDERLY.value}," not in text
    assert group_pattern(TargetGroup.ELDERLY) == "%,elderly,%"


def test_a_name_searched_matches_its_wildcards_literally() -> None:
    assert like_escaped("50%_a\\b") == "%50\\%\\_a\\\\b%"


def test_search_dates_are_whole_days_in_baku() -> None:
    search = CaseSearch(submitted_from=date(2026, 12, 6), submitted_to=date(2026, 12, 6))
    assert search.submitted_between() == (
        datetime(2026, 12, 5, 20, tzinfo=UTC),
        datetime(2026, 12, 6, 20, tzinfo=UTC),
    )
    assert CaseSearch().submitted_between() == (None, None)


def test_the_search_takes_a_district_in_its_spelling_and_refuses_one_it_does_not_know() -> None:
    assert CaseSearch(district=" Xətai ").district == "Xətai"
    with pytest.raises(ValidationError, match="unknown district"):
        CaseSearch(district="Atlantis")


@pytest.mark.parametrize(
    "query",
    [
        {"submitted_from": date(2026, 12, 7), "submitted_to": date(2026, 12, 6)},
        {"fin": "5zj8k2"},
        {"reference": "1A2B-3C4"},
        {"name": "a"},
        {"limit": 201},
        {"limit": 0},
        {"offset": -1},
        {"assigned_to": "two words"},
        {"status": "lost"},
        {"target_group": "everyone"},
        {"colour": "red"},
    ],
)
def test_the_search_refuses_what_it_cannot_mean(query: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CaseSearch.model_validate(query)


def test_a_visit_recorded_at_once_needs_its_time_and_outcome_and_none_in_the_future() -> None:
    now = datetime.now(UTC)
    assert VisitPlan(reason="check on her").record() is None
    done = VisitPlan(reason="check", visited_at=now, outcome=VisitOutcome.INFORMED).record()
    assert done is not None
    assert done.outcome is VisitOutcome.INFORMED
    with pytest.raises(ValidationError, match="both visited_at and outcome"):
        VisitPlan(reason="check", outcome=VisitOutcome.INFORMED)
    with pytest.raises(ValidationError, match="with the visit's outcome"):
        VisitPlan(reason="check", note="she was out")
    with pytest.raises(ValidationError, match="future"):
        VisitRecord(visited_at=now + timedelta(hours=1), outcome=VisitOutcome.INFORMED)
    with pytest.raises(ValidationError):
        VisitRecord(visited_at=now.replace(tzinfo=None), outcome=VisitOutcome.INFORMED)


def test_a_visit_is_recorded_once_with_who_recorded_it() -> None:
    visit = HomeVisitRow(
        id=uuid.uuid4(),
        application_id=uuid.uuid4(),
        reason="decision_made",
        requested_at=datetime.now(UTC),
    )
    went = VisitRecord(visited_at=datetime.now(UTC), outcome=VisitOutcome.NOT_AT_HOME)
    record(visit, went, WORKER)
    assert (visit.status, visit.outcome, visit.recorded_by) == (
        DONE,
        "not_at_home",
        "social_worker:aysel",
    )
    with pytest.raises(VisitAlreadyRecorded):
        record(visit, went, Actor.parse("social_worker:other"))
    assert visit.recorded_by == "social_worker:aysel"
