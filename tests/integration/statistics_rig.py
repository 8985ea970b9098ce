"""The statistics service under test: its app on a database of its own, and the events of made-up
applications to feed it (through its consumer, or through the real broker)."""

import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiokafka import ConsumerRecord
from fastapi import FastAPI

from ministry_statistics.app import StatisticsSettings, build_app
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import public as pub
from socialsvc_common.contract import topics
from socialsvc_common.contract.appeals import (
    AppealDecided,
    AppealLodged,
    AppealStatus,
    AppealSubject,
)
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.pseudonym import public_application_id
from socialsvc_common.service import Runtime
from tests.harness import migrate

KEY = "statistics-test-pseudonym-key"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PERIOD = {"from": "2026-01", "to": "2026-12"}


def ref_of(application_id: UUID) -> UUID:
    return public_application_id(application_id, KEY.encode())


def record(event: Event, offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    value, headers = event.value(), event.envelope.to_headers()
    return ConsumerRecord(event.topic.name, 0, offset, 0, 0, event.key, value, None, 1, 1, headers)


async def shuffled_twice(runtime: Runtime, events: list[Event]) -> None:
    """Every event twice, in a shuffled order (a start before its offer, a decision before its
    application), in batches of the consumer's own kind."""
    shuffled = [*events, *events]
    random.Random(19).shuffle(shuffled)
    records = [record(event, offset) for offset, event in enumerate(shuffled)]
    for start in range(0, len(records), 25):
        await runtime.consumer.process_batch(records[start : start + 25])


def section(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in answer["sections"] if s["id"] == name)


def values(answer: dict[str, Any], name: str, measure: str) -> dict[Any, Any]:
    found = section(answer, name)
    return {
        tuple(row["keys"].values())
        if len(row["keys"]) > 1
        else next(iter(row["keys"].values())): row["values"][measure]
        for row in found["rows"]
    }


async def figures(client: httpx.AsyncClient, **query: str) -> dict[str, Any]:
    response = await client.get("/statistics", params={**PERIOD, **query})
    assert response.status_code == 200, response.text
    return dict(response.json())


def policy_file(folder: Path, min_cell: int) -> Path:
    path = folder / f"disclosure-k{min_cell}.toml"
    path.write_text(
        f'version = "test-k{min_cell}"\nmin_cell = {min_cell}\n'
        'sensitive_groups = ["trafficking_victim", "domestic_violence_victim"]\n'
        "public_time_minutes = 60\n",
        encoding="utf-8",
    )
    return path


def statistics_app(
    database_url: str, bootstrap: str, *, policy: Path | None = None, **settings: Any
) -> tuple[FastAPI, Runtime]:
    options: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap,
        "pseudonym_key": KEY,
        **settings,
    }
    if policy is not None:
        options["disclosure_policy_file"] = policy
    app = build_app(StatisticsSettings(**options))
    return app, app.state.runtime


@asynccontextmanager
async def raw_and_safe(
    url: str, bootstrap: str, folder: Path, keys: Path, key: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime]]:
    """Clients of the API with k=1 and with the platform's k=5 over one database (migrated) that
    send `key`, and the runtime of the first, to feed it."""
    await migrate("statistics", url)
    raw, raw_runtime = statistics_app(
        url, bootstrap, policy=policy_file(folder, 1), api_keys_file=keys
    )
    safe, safe_runtime = statistics_app(url, bootstrap, api_keys_file=keys)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(raw), base_url="http://s", headers=headers
            ) as raw_client,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(safe), base_url="http://s", headers=headers
            ) as safe_client,
        ):
            yield raw_client, safe_client, raw_runtime
    finally:
        await raw_runtime.engine.dispose()
        await safe_runtime.engine.dispose()


@dataclass
class Person:
    """One made-up application and the events of its story, in the order they happened."""

    district: str
    service: p.ServiceRequested = p.ServiceRequested.ANY
    at: datetime = T0
    application_id: UUID = field(default_factory=uuid4)
    events: list[Event] = field(default_factory=list)

    @property
    def ref(self) -> UUID:
        return ref_of(self.application_id)

    @property
    def key(self) -> bytes:
        """The record key of its private events."""
        return str(self.application_id).encode()

    def _add(self, topic: Any, payload: Any, subject: UUID | None = None) -> Event:
        event = new_event(
            topic, payload, producer="test", application_id=subject or self.application_id
        )
        self.events.append(event)
        return event

    def received(self, revision: int = 1) -> "Person":
        payload = pub.PublicApplicationReceived(
            application_ref=self.ref,
            status=pub.PublicStatus.RECEIVED,
            received_at=self.at,
            service_requested=self.service,
            district=self.district,
            channel="web",
            revision=revision,
        )
        self._add(topics.PUBLIC_APPLICATION_RECEIVED, payload, self.ref)
        return self

    def decided(
        self,
        outcome: p.Outcome,
        groups: Sequence[p.TargetGroup] = (),
        *,
        after: timedelta = timedelta(minutes=5),
        band: p.AgeBand | None = p.AgeBand.OLDER,
        refused_by: Sequence[str] = (),
    ) -> "Person":
        rules = [p.RuleResult(rule=reason, passed=False, reason=reason) for reason in refused_by]
        payload = p.DecisionMade(
            application_id=self.application_id,
            decided_at=self.at + after,
            outcome=outcome,
            rule_set_version="2026-1",
            district=self.district,
            groups=list(groups),
            provision_types=[p.ProvisionType.HOME_CARE] if outcome is p.Outcome.ELIGIBLE else [],
            rules=rules,
            age_band=band,
        )
        self._add(topics.DECISION_MADE, payload)
        return self

    def placed(
        self,
        placement_id: UUID,
        provider: str,
        direction: p.ProvisionType,
        *,
        after: timedelta = timedelta(hours=1),
    ) -> "Person":
        payload = p.PlacementMade(
            application_id=self.application_id,
            placement_id=placement_id,
            provider_id=provider,
            provider_name=provider,
            provision_type=direction,
            district=self.district,
            placed_at=self.at + after,
        )
        self._add(topics.PLACEMENT_MADE, payload)
        return self

    def moved_on(
        self,
        placement_id: UUID,
        provider: str,
        status: p.PlacementStatus,
        *,
        after: timedelta,
    ) -> "Person":
        payload = p.PlacementUpdated(
            application_id=self.application_id,
            placement_id=placement_id,
            provider_id=provider,
            status=status,
            updated_at=self.at + after,
        )
        self._add(topics.PLACEMENT_UPDATED, payload)
        return self

    def released(
        self, placement_id: UUID, provider: str, reason: p.ReleaseReason, *, after: timedelta
    ) -> "Person":
        payload = p.PlacementReleased(
            application_id=self.application_id,
            placement_id=placement_id,
            provider_id=provider,
            reason=reason.value,
            released_at=self.at + after,
        )
        self._add(topics.PLACEMENT_RELEASED, payload)
        return self

    def served(self, provider: str, direction: p.ProvisionType, *, days: int = 3) -> "Person":
        """Offered, accepted and started `days` after the application."""
        placement = uuid4()
        self.placed(placement, provider, direction)
        self.moved_on(placement, provider, p.PlacementStatus.ACCEPTED, after=timedelta(hours=2))
        return self.moved_on(
            placement, provider, p.PlacementStatus.STARTED, after=timedelta(days=days)
        )

    def waitlisted(self, direction: p.ProvisionType, *, after: timedelta) -> "Person":
        payload = p.PlacementWaitlisted(
            application_id=self.application_id,
            provision_type=direction,
            district=self.district,
            priority_score=1.0,
            waitlisted_at=self.at + after,
        )
        self._add(topics.PLACEMENT_WAITLISTED, payload)
        return self

    def message(self, channel: p.Channel, *, delivered: bool, final: bool = True) -> "Person":
        notification = uuid4()
        language = p.Language.AZ
        if delivered:
            payload: Any = p.NotificationDelivered(
                application_id=self.application_id,
                notification_id=notification,
                channel=channel,
                delivered_at=self.at + timedelta(minutes=10),
                language=language,
            )
            self._add(topics.NOTIFICATION_DELIVERED, payload)
        else:
            payload = p.NotificationFailed(
                application_id=self.application_id,
                notification_id=notification,
                channel=channel,
                failed_at=self.at + timedelta(minutes=10),
                reason="unreachable",
                final=final,
                language=language,
            )
            self._add(topics.NOTIFICATION_FAILED, payload)
        return self

    def appealed(self, status: AppealStatus | None, *, overdue: bool = False) -> "Person":
        appeal = uuid4()
        lodged = AppealLodged(
            appeal_id=appeal,
            application_id=self.application_id,
            subject=AppealSubject.DECISION,
            decision_event_id=uuid4(),
            lodged_at=self.at + timedelta(days=1),
            lodged_by="social_worker:test",
            respond_by=self.at + timedelta(days=31),
        )
        self._add(topics.APPEAL_LODGED, lodged)
        if status is not None:
            decided = AppealDecided(
                appeal_id=appeal,
                application_id=self.application_id,
                status=status,
                decided_at=self.at + timedelta(days=40 if overdue else 5),
                decided_by="reviewer:test",
                overdue=overdue,
            )
            self._add(topics.APPEAL_DECIDED, decided)
        return self

    def withdrew(self, *purposes: p.ConsentPurpose) -> "Person":
        payload = p.ConsentWithdrawn(
            application_id=self.application_id,
            withdrawn_at=self.at + timedelta(days=10),
            reason=p.WithdrawalReason.CITIZEN_REQUEST,
            text_version="2026.1",
            purposes=list(purposes),
            withdrawn_by="social_worker:test",
        )
        self._add(topics.CONSENT_WITHDRAWN, payload)
        return self


def project(
    provider: str,
    organisation: str,
    capacity: int,
    *,
    changed_at: datetime = T0,
    name: str | None = None,
) -> Event:
    payload = pub.PublicProviderChanged(
        provider_id=provider,
        provision_type=p.ProvisionType.NGO_PROJECT,
        name=name or f"Project {provider}",
        organisation=organisation,
        districts=["Babək"],
        capacity=capacity,
        target_groups=[],
        contract_start=date(2026, 1, 1),
        contract_end=date(2027, 12, 31),
        changed_at=changed_at,
    )
    return new_event(
        topics.PUBLIC_PROVIDER_CHANGED,
        payload,
        producer="test",
        application_id=pub.provider_subject(provider),
    )


@dataclass
class LifeEvent:
    """One made-up life event from a state registry: its pre-screen and what became of its offer,
    as events (no person in any of them)."""

    kind: p.LifeEventKind
    district: str
    at: datetime = T0
    life_event_id: UUID = field(default_factory=uuid4)
    events: list[Event] = field(default_factory=list)

    @property
    def ref(self) -> UUID:
        return ref_of(self.life_event_id)

    def screened(
        self,
        outcome: p.Prescreen,
        groups: Sequence[p.TargetGroup] = (),
        directions: Sequence[p.ProvisionType] = (),
    ) -> "LifeEvent":
        registry = next(r for r, kind in p.REGISTRY_KINDS.items() if kind is self.kind)
        payload = p.PrescreenMade(
            life_event_id=self.life_event_id,
            registry=registry,
            kind=self.kind,
            district=self.district,
            screened_at=self.at,
            outcome=outcome,
            rule_set_version="2026.1",
            groups=list(groups),
            provision_types=list(directions),
        )
        return self._add(topics.PRESCREEN_MADE, payload)

    def offer(
        self, status: p.OfferStatus, *, after: timedelta, application: Person | None = None
    ) -> "LifeEvent":
        """The offer's status `after` the pre-screen; an acceptance names its application."""
        payload = p.OfferUpdated(
            offer_id=self.life_event_id,
            kind=self.kind,
            status=status,
            updated_at=self.at + after,
            answer_by=(self.at + timedelta(days=30)).date(),
            application_id=application.application_id if application else None,
        )
        return self._add(topics.OFFER_UPDATED, payload)

    def _add(self, topic: Any, payload: Any) -> "LifeEvent":
        event = new_event(topic, payload, producer="test", application_id=self.life_event_id)
        self.events.append(event)
        return self
