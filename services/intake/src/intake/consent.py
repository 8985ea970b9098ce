"""Withdrawing consent: the record says so, the application is closed as withdrawn, and the event
tells every other service to stop."""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.applications import NAME
from intake.journey import journey_row
from intake.store import ApplicationRow, ConsentRow, Status, add_journey
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.problems import Problem


class ConsentAlreadyWithdrawn(Problem):
    def __init__(self, consent: ConsentRow) -> None:
        super().__init__(
            409,
            "consent-already-withdrawn",
            "Consent already withdrawn",
            f"consent to application {consent.application_id} was withdrawn at "
            f"{consent.withdrawn_at:%Y-%m-%dT%H:%M:%SZ}",
            withdrawn_at=f"{consent.withdrawn_at:%Y-%m-%dT%H:%M:%SZ}",
        )


@dataclass(frozen=True, slots=True)
class WithdrawConsent:
    """A command: the person withdraws their consent to this application."""

    application_id: UUID
    reason: p.WithdrawalReason
    actor: Actor
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    application_id: UUID
    withdrawn_at: datetime
    created: bool
    events: list[Event]


async def withdraw(session: AsyncSession, command: WithdrawConsent) -> Withdrawal:
    """Records the withdrawal and closes the application; the same request again (by its
    Idempotency-Key) is answered as the first time, any other repeat is refused."""
    application = await session.get(ApplicationRow, command.application_id, with_for_update=True)
    consent = await session.get(ConsentRow, command.application_id, with_for_update=True)
    if application is None:
        raise Problem(
            404, "not-found", "No such application", f"no application {command.application_id}"
        )
    if consent is None:
        raise Problem(
            409,
            "no-consent-record",
            "No consent record",
            f"application {application.id} has no consent record to withdraw",
        )
    if consent.withdrawn_at is not None:
        if command.idempotency_key and command.idempotency_key == consent.withdrawal_key:
            return Withdrawal(application.id, consent.withdrawn_at, created=False, events=[])
        raise ConsentAlreadyWithdrawn(consent)
    now = datetime.now(UTC)
    consent.withdrawn_at, consent.withdrawn_by = now, str(command.actor)
    consent.withdrawal_reason, consent.withdrawal_key = (
        command.reason.value,
        command.idempotency_key,
    )
    application.status, application.is_open, application.updated_at = (
        Status.WITHDRAWN.value,
        False,
        now,
    )
    session.add_all([consent, application])
    withdrawn = p.ConsentWithdrawn(
        application_id=application.id,
        withdrawn_at=now,
        reason=command.reason,
        text_version=consent.text_version,
        purposes=[p.ConsentPurpose(purpose) for purpose in consent.purposes],
        withdrawn_by=str(command.actor),
    )
    event = new_event(
        topics.CONSENT_WITHDRAWN,
        withdrawn,
        producer=NAME,
        application_id=application.id,
        at=now,
        actor=command.actor,
    )
    await add_journey(session, [journey_row(event.envelope, withdrawn)])
    return Withdrawal(application.id, now, created=True, events=[event])
