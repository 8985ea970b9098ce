"""The access map matches what each service's code really consumes and produces."""

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI

import assignment.app
import eligibility.app
import intake.app
import ministry_statistics.app
import notifications.app
from socialsvc_common import service
from socialsvc_common.contract import topics
from socialsvc_common.contract.access import (
    ALL,
    ARCHIVE,
    EGOV,
    OPERATOR,
    Grant,
    Operation,
    Pattern,
    Resource,
    access_map,
    partner_principal,
    registry_principal,
)
from socialsvc_common.contract.payloads import Registry
from socialsvc_common.settings import ServiceSettings

APPS: dict[str, tuple[ModuleType, type[ServiceSettings]]] = {
    "intake": (intake.app, intake.app.IntakeSettings),
    "eligibility": (eligibility.app, eligibility.app.EligibilitySettings),
    "assignment": (assignment.app, assignment.app.AssignmentSettings),
    "notifications": (notifications.app, notifications.app.NotificationsSettings),
    "statistics": (ministry_statistics.app, ministry_statistics.app.StatisticsSettings),
}


def built_runtime(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> service.Runtime:
    """The runtime the service's own `build_app` wires (nothing connects until its lifespan)."""
    module, settings_class = APPS[name]
    built: list[service.Runtime] = []

    def keep(*args: Any, **kwargs: Any) -> service.Runtime:
        built.append(service.build_runtime(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(module, "build_runtime", keep)
    settings = settings_class(database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db")
    assert isinstance(module.build_app(settings), FastAPI)
    return built[0]


@pytest.mark.parametrize("name", sorted(APPS))
def test_a_service_may_read_exactly_what_its_consumer_subscribes_to(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = built_runtime(name, tmp_path, monkeypatch)
    access = access_map()[name]
    assert access.reads == {topic.name for topic in runtime.consumer.topics}
    assert access.groups == {runtime.group_id}
    assert topics.DEAD_LETTERS[name].name in access.writes


@pytest.mark.parametrize("name", sorted(APPS))
def test_a_service_writes_exactly_what_it_publishes_its_own_topics_and_partner_streams(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = built_runtime(name, tmp_path, monkeypatch)
    access = access_map()[name]
    assert access.writes == {topic.name for topic in runtime.publishes}
    assert all(topic.startswith((f"{name}.", "public.")) for topic in access.writes)
    assert not access.read_prefixes
    assert not access.watched_groups


def test_nothing_a_service_consumes_is_written_by_nobody_but_the_outside_channels() -> None:
    services = [access_map()[name] for name in APPS]
    written = set().union(*(access.writes for access in services))
    consumed = set().union(*(access.reads for access in services))
    outside = {
        topics.EGOV_APPLICATION_SUBMITTED.name,
        *(t.name for t in topics.LIFE_EVENTS.values()),
    }
    assert consumed - written == outside


@pytest.mark.parametrize("registry", list(Registry))
def test_each_registry_writes_its_own_life_events_and_nothing_else(registry: Registry) -> None:
    access = access_map()[registry_principal(registry)]
    assert access.writes == {topics.LIFE_EVENTS[registry].name}
    assert (access.reads, access.read_prefixes) == (frozenset(), frozenset())
    assert (access.groups, access.group_prefixes) == (frozenset(), frozenset())


def test_each_partner_reads_public_topics_only_in_groups_of_its_own() -> None:
    principals = access_map(["umid", "humay"])
    umid, humay = partner_principal("umid"), partner_principal("humay")
    grants = principals[umid].grants()
    assert [g for g in grants if g.resource is Resource.TOPIC] == [
        Grant(umid, Resource.TOPIC, "public.", Pattern.PREFIXED, Operation.READ)
    ]
    assert [g for g in grants if g.resource is Resource.GROUP] == [
        Grant(umid, Resource.GROUP, "partner-umid-", Pattern.PREFIXED, Operation.READ)
    ]
    assert all(g.operation is Operation.READ for g in grants)
    # "partner-umid-" is not a prefix of any group "partner-humay-..." may use, nor the reverse.
    humays_groups = {g.name for g in principals[humay].grants() if g.resource is Resource.GROUP}
    assert humays_groups == {"partner-humay-"}
    assert umid not in access_map()


def test_the_egov_gateway_writes_the_submissions_and_nothing_else() -> None:
    egov = access_map()[EGOV]
    assert egov.writes == {topics.EGOV_APPLICATION_SUBMITTED.name}
    assert (egov.reads, egov.read_prefixes) == (frozenset(), frozenset())
    assert (egov.groups, egov.group_prefixes) == (frozenset(), frozenset())


def test_the_operator_reads_everything_and_writes_only_replay_targets() -> None:
    operator = access_map()[OPERATOR]
    assert operator.reads == {ALL}
    consumed = set().union(*(access_map()[name].reads for name in APPS))
    assert operator.writes == consumed | {topics.DEAD_LETTER_REPLAYED.name}
    assert not any(name.endswith(".record.deadlettered.v1") for name in operator.writes)


def test_the_archive_reads_everything_in_its_one_group_and_writes_nothing() -> None:
    archive = access_map()[ARCHIVE]
    assert archive.reads == {ALL}
    assert archive.groups == {ARCHIVE}
    assert (archive.writes, archive.group_prefixes) == (frozenset(), frozenset())


def test_grants_are_literal_unless_declared_as_prefixes() -> None:
    grants = access_map()["eligibility"].grants()
    assert {(g.resource, g.name, g.pattern, g.operation) for g in grants} == {
        (Resource.TOPIC, "intake.application.received.v1", Pattern.LITERAL, Operation.READ),
        (Resource.TOPIC, "intake.subject.erased.v1", Pattern.LITERAL, Operation.READ),
        (Resource.TOPIC, "intake.consent.withdrawn.v1", Pattern.LITERAL, Operation.READ),
        (Resource.TOPIC, "assignment.placement.refused.v1", Pattern.LITERAL, Operation.READ),
        (Resource.TOPIC, "assignment.placement.released.v1", Pattern.LITERAL, Operation.READ),
        (Resource.TOPIC, "assignment.review.due.v1", Pattern.LITERAL, Operation.READ),
        *(
            (Resource.TOPIC, topic.name, Pattern.LITERAL, Operation.READ)
            for topic in topics.LIFE_EVENTS.values()
        ),
        (Resource.TOPIC, "eligibility.prescreen.made.v1", Pattern.LITERAL, Operation.WRITE),
        (Resource.TOPIC, "eligibility.decision.made.v1", Pattern.LITERAL, Operation.WRITE),
        (Resource.TOPIC, "eligibility.appeal.lodged.v1", Pattern.LITERAL, Operation.WRITE),
        (Resource.TOPIC, "eligibility.appeal.decided.v1", Pattern.LITERAL, Operation.WRITE),
        (Resource.TOPIC, "eligibility.record.deadlettered.v1", Pattern.LITERAL, Operation.WRITE),
        (Resource.TOPIC, "public.application.decided.v1", Pattern.LITERAL, Operation.WRITE),
        (Resource.GROUP, "eligibility", Pattern.LITERAL, Operation.READ),
    }
