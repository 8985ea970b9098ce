"""Each application's journey: every event about it, and the status it has reached, written per
batch of events (one read, one insert, an update of the statuses and one of the target groups,
whatever the batch's size)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.cases import groups_text
from intake.casework_store import set_target_groups
from intake.store import (
    CLOSED,
    DECIDABLE,
    REOPENABLE,
    STATUS_RANK,
    Status,
    add_journey,
    set_statuses,
    statuses_of,
)
from socialsvc_common.consumer import Received, Rejected
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Envelope, Event
from socialsvc_common.contract.erasure import SubjectErased
from socialsvc_common.refusals import deciding_reasons


def journey_row(envelope: Envelope, payload: BaseModel) -> dict[str, Any]:
    return {
        "event_id": envelope.event_id,
        "application_id": envelope.application_id,
        "type": envelope.type,
        "time": envelope.time,
        "summary": summary(payload),
        "actor": str(envelope.actor) if envelope.actor else None,
    }


def summary(payload: BaseModel) -> dict[str, Any]:  # noqa: PLR0911, PLR0912 - one return per event type
    """What the journey shows of an event: status facts, never personal data."""
    match payload:
        case p.ApplicationReceived():
            return {
                "channel": payload.channel,
                "service_requested": payload.service_requested.value,
                "revision": payload.revision,
            }
        case p.DecisionMade():
            return payload.model_dump(
                mode="json",
                include={"outcome", "rule_set_version", "need_level", "provision_types", "missing"},
            ) | {"reasons": payload.refusal_reasons(), "told": told(payload)}
        case p.PlacementMade():
            # The placement's id and expiry let the citizen answer the offer on the portal.
            return payload.model_dump(
                mode="json",
                include={
                    "placement_id",
                    "provider_name",
                    "provision_type",
                    "district",
                    "offer_expires_at",
                },
            )
        case p.PlacementWaitlisted():
            return payload.model_dump(mode="json", include={"provision_type", "district"})
        case p.PlacementUpdated():
            return {"status": payload.status.value, "placement_id": str(payload.placement_id)}
        case p.PlacementRefused():
            return {"reason": payload.reason}
        case p.PlacementReleased():
            return {"reason": payload.reason, "placement_id": str(payload.placement_id)}
        case SubjectErased():
            return {"reason": payload.reason.value}
        case p.ConsentWithdrawn():
            return {"reason": payload.reason.value, "text_version": payload.text_version}
        case p.InformationReminded():
            return {"missing": payload.missing, "expires_at": payload.expires_at.isoformat()}
        case p.ApplicationExpired():
            return {"reason": payload.reason.value, "policy_version": payload.policy_version}
        case p.NotificationDelivered():
            return payload.model_dump(mode="json", include={"channel", "segments"})
        case p.NotificationFailed():
            return payload.model_dump(mode="json", include={"channel", "reason", "final"})
    return {}


def told(decision: p.DecisionMade) -> list[str]:
    """The reasons the citizen is told (as notifications tells them): a refusal's deciding ones,
    never two that contradict; `reasons` keeps every failed rule's for the staff."""
    if decision.outcome is p.Outcome.INELIGIBLE:
        return deciding_reasons(decision.rules)
    return decision.refusal_reasons()


def status_after(payload: BaseModel) -> Status | None:
    match payload:
        case p.DecisionMade():
            return Status(payload.outcome.value)
        case p.PlacementMade():
            return Status.PLACED
        case p.PlacementWaitlisted():
            return Status.WAITLISTED
        case p.PlacementRefused():
            return Status.REFUSED
        case p.PlacementReleased():
            return Status.RELEASED
    return None


def moves_to(current: Status, new: Status, payload: BaseModel) -> bool:
    """A newer decision supersedes an earlier one until the person is placed or waitlisted, and
    one an appeal made reopens a case whose placement was refused or ended; any other status only
    moves forward, because events of different topics arrive in either order."""
    if isinstance(payload, p.DecisionMade):
        return current in DECIDABLE or (payload.appeal_id is not None and current in REOPENABLE)
    return STATUS_RANK[new] > STATUS_RANK[current]


def advance(statuses: dict[Any, Status], batch: Sequence[Received[BaseModel]]) -> dict[Any, Status]:
    """The status each application reaches through the batch's events, in their order: only the
    applications whose status changes."""
    changed: dict[Any, Status] = {}
    for item in batch:
        application_id = item.envelope.application_id
        new = status_after(item.payload)
        if new is not None and moves_to(statuses[application_id], new, item.payload):
            statuses[application_id] = changed[application_id] = new
    return changed


async def record_events(session: AsyncSession, batch: Sequence[Received[Any]]) -> list[Event]:
    """Adds downstream events to their applications' journeys, moves their statuses forward and
    keeps the target groups of the latest decision."""
    statuses = await statuses_of(session, {item.envelope.application_id for item in batch})
    unknown = [
        i.envelope.application_id for i in batch if i.envelope.application_id not in statuses
    ]
    if unknown:
        raise Rejected(f"no application {unknown[0]} was taken in here")
    changed = advance(statuses, batch)
    # The latest decision names the person's target groups (the search finds cases by them).
    groups = {
        item.envelope.application_id: groups_text(item.payload.groups)
        for item in batch
        if isinstance(item.payload, p.DecisionMade)
    }
    await set_target_groups(session, groups)
    await add_journey(session, [journey_row(item.envelope, item.payload) for item in batch])
    now = datetime.now(UTC)
    await set_statuses(
        session,
        [
            {"id": application_id, "status": status.value, "is_open": status not in CLOSED}
            for application_id, status in changed.items()
        ],
        now,
    )
    return []
