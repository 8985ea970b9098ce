"""Retention: how long a person's data is kept after their applications closed (policy data), and
whose time has come, in pure code."""

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from intake.store import CLOSED, ApplicationRow, Status
from socialsvc_common.contract.payloads import OfferStatus

POLICY_FILE = Path(__file__).parent / "policy" / "retention.toml"


class RetentionPolicyError(ValueError):
    """The retention policy file cannot be used; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    version: str
    days_after_closing: dict[Status, int]
    # A proactive offer declined or lapsed, or a life event that led to no offer: days kept.
    proactive_days: int

    @classmethod
    def load(cls, path: Path = POLICY_FILE) -> "RetentionPolicy":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        days = data.get("days_after_closing", {})
        try:
            by_status = {Status(status): int(value) for status, value in days.items()}
        except ValueError as error:
            raise RetentionPolicyError(f"{path}: {error}") from None
        if set(by_status) != CLOSED or min(by_status.values()) < 1:
            wanted = ", ".join(sorted(CLOSED))
            raise RetentionPolicyError(f"{path}: give days >= 1 for exactly: {wanted}")
        proactive = data.get("proactive", {}).get("days_after_closing")
        if not isinstance(proactive, int) or isinstance(proactive, bool) or proactive < 1:
            raise RetentionPolicyError(f"{path}: give [proactive] days_after_closing, days >= 1")
        return cls(str(data.get("version", "")), by_status, proactive)

    def retained_until(self, status: Status, closed_at: datetime) -> datetime | None:
        """When an application's data is due for erasure; None while it is open."""
        days = self.days_after_closing.get(status)
        return None if days is None else closed_at + timedelta(days=days)

    def life_event_retained_until(
        self, offer: OfferStatus | None, received_at: datetime, answered_at: datetime | None
    ) -> datetime | None:
        """When a life event and its offer are due for erasure; None while the offer is open. One
        that led to no offer counts from its receipt, an answered one from the answer (an
        accepted offer's application has a retention of its own besides, which the person's
        erasure waits for too). `subject_store.life_event_closed_at` is the same rule in SQL."""
        if offer is None:
            return received_at + timedelta(days=self.proactive_days)
        if offer is OfferStatus.OFFERED or answered_at is None:
            return None
        return answered_at + timedelta(days=self.proactive_days)


@dataclass(frozen=True, slots=True)
class HeldApplication:
    fin: str
    status: Status
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class HeldLifeEvent:
    fin: str
    offer: OfferStatus | None
    received_at: datetime
    answered_at: datetime | None


def held_applications(rows: Iterable[ApplicationRow]) -> list[HeldApplication]:
    return [HeldApplication(r.fin, Status(r.status), r.updated_at) for r in rows if r.fin]


def held_life_events(
    rows: Iterable[tuple[str | None, str | None, datetime, datetime | None]],
) -> list[HeldLifeEvent]:
    """From (FIN, offer status, received at, answered at) of each life event."""
    return [
        HeldLifeEvent(fin, OfferStatus(status) if status else None, received, answered)
        for fin, status, received, answered in rows
        if fin
    ]


def people_due(
    applications: Iterable[HeldApplication],
    policy: RetentionPolicy,
    now: datetime,
    life_events: Iterable[HeldLifeEvent] = (),
) -> list[str]:
    """The FINs whose every application is closed and past its retention, and every life event
    (and offer) past its own, in FIN order."""
    due: dict[str, bool] = {}
    for application in applications:
        until = policy.retained_until(application.status, application.updated_at)
        due[application.fin] = due.get(application.fin, True) and until is not None and until <= now
    for event in life_events:
        until = policy.life_event_retained_until(event.offer, event.received_at, event.answered_at)
        due[event.fin] = due.get(event.fin, True) and until is not None and until <= now
    return sorted(fin for fin, ended in due.items() if ended)
