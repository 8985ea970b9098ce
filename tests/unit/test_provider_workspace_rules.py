"""The pure parts of a provider's workspace in assignment: the contract warning, a service
delivered (only on a started placement, on a day from its start to today, the note never in the
event) and whose placements a caller may see."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from assignment.deliveries import Delivery, delivered
from assignment.provider_views import provider_entry
from assignment.registry import NgoProject
from assignment.scope import may_see
from assignment.store import PlacementRow
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.payloads import ServiceKind, TargetGroup
from socialsvc_common.problems import Problem
from tests.unit.test_assignment_matching import team

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
PROVIDER = Actor(role=Role.PROVIDER, name="umid")


def project(end: date) -> NgoProject:
    return NgoProject.model_validate(
        {
            "id": "ngo-test",
            "name": "Day centre",
            "organisation": "NGO",
            "districts": ["Xətai", "Nizami"],
            "capacity": 10,
            "target_groups": [TargetGroup.DISABILITY],
            "contract_start": date(2026, 1, 1),
            "contract_end": end,
        }
    )


def placement(
    status: str = "started", *, active: bool = True, started: datetime | None = NOW
) -> PlacementRow:
    return PlacementRow(
        id=uuid.uuid4(),
        application_id=uuid.uuid4(),
        person_ref="ab" * 16,
        provider_id="ngo-test",
        provision_type="ngo_project",
        district="Xətai",
        status=status,
        active=active,
        placed_at=NOW - timedelta(days=3),
        started_at=started,
    )


@pytest.mark.parametrize(
    ("days_left", "warned"), [(31, False), (30, True), (1, True), (0, True), (-5, True)]
)
def test_a_contract_is_warned_of_from_the_days_set_before_it_ends(
    days_left: int, warned: bool
) -> None:
    today = date(2026, 12, 6)
    entry = provider_entry(project(today + timedelta(days=days_left)), 4, today, 30)
    assert (entry["contract_days_left"], entry["contract_warning"]) == (days_left, warned)
    assert (entry["capacity"], entry["in_use"], entry["free"]) == (10, 4, 6)
    assert entry["districts"] == ["Xətai", "Nizami"]


def test_a_team_has_no_contract_to_warn_of_and_never_negative_free_places() -> None:
    entry = provider_entry(team("hc-x", "Xətai", limit=2), 3, date(2026, 12, 6), 30)
    assert entry["contract_end"] is None
    assert entry["contract_days_left"] is None
    assert entry["contract_warning"] is False
    assert entry["free"] == 0


def test_a_service_delivered_is_recorded_with_its_actor_and_published_without_the_note() -> None:
    started = placement()
    note = "Leyla xanım yaxşı idi, 0501234567"
    row, event = delivered(
        started, Delivery(ServiceKind.VISIT, NOW.date(), 45, note), PROVIDER, NOW
    )
    assert (row.note, row.recorded_by, row.kind) == (note, "provider:umid", "visit")
    assert event.topic.name == "assignment.service.delivered.v1"
    assert event.envelope.actor == PROVIDER
    payload = event.payload.model_dump(mode="json")
    assert set(payload) == {
        "placement_id",
        "application_id",
        "provider_id",
        "kind",
        "delivered_on",
        "minutes",
        "recorded_at",
    }
    assert "Leyla" not in event.payload.model_dump_json()
    assert payload["minutes"] == 45


@pytest.mark.parametrize(
    ("status", "active"), [("offered", True), ("accepted", True), ("ended", False)]
)
def test_a_service_only_on_a_started_placement(status: str, active: bool) -> None:
    with pytest.raises(Problem) as refused:
        delivered(
            placement(status, active=active),
            Delivery(ServiceKind.MEAL, NOW.date()),
            PROVIDER,
            NOW,
        )
    assert (refused.value.status, refused.value.slug) == (409, "not-started")


@pytest.mark.parametrize("day", [NOW.date() + timedelta(days=2), NOW.date() - timedelta(days=1)])
def test_a_service_is_delivered_between_the_start_and_today(day: date) -> None:
    with pytest.raises(Problem) as refused:
        delivered(placement(), Delivery(ServiceKind.CARE, day), PROVIDER, NOW)
    assert refused.value.status == 422
    assert refused.value.extra["errors"][0]["field"] == "delivered_on"


def test_a_service_on_a_placement_started_before_its_start_was_kept_takes_any_past_day() -> None:
    row, _ = delivered(
        placement(started=None),
        Delivery(ServiceKind.SESSION, date(2026, 1, 5)),
        PROVIDER,
        NOW,
    )
    assert row.delivered_on == date(2026, 1, 5)


def caller(
    role: Role, *, districts: frozenset[str] = frozenset(), provider: str | None = None
) -> Caller:
    return Caller("someone", role, NOW, districts, provider)


def test_who_may_see_a_placement() -> None:
    seen = placement()
    unknown = placement()
    unknown.district = None
    assert may_see(caller(Role.PROVIDER, provider="ngo-test"), seen)
    assert not may_see(caller(Role.PROVIDER, provider="ngo-other"), seen)
    assert may_see(caller(Role.SOCIAL_WORKER, districts=frozenset({"Xətai"})), seen)
    assert not may_see(caller(Role.SOCIAL_WORKER, districts=frozenset({"Nizami"})), seen)
    assert not may_see(caller(Role.REVIEWER, districts=frozenset({"Xətai"})), unknown)
    assert may_see(caller(Role.SOCIAL_WORKER), unknown)
    assert may_see(caller(Role.OPERATOR), seen)
