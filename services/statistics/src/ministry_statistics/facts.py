"""From events to rows of the read model, in pure code: what each event says that the figures
need, under the application's (or the life event's) pseudonymous ref, and nothing else."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from socialsvc_common.consumer import Rejected
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import public as pub
from socialsvc_common.contract.appeals import AppealDecided, AppealLodged
from socialsvc_common.geography import Geography, Unit, UnknownUnit
from socialsvc_common.pseudonym import public_application_id

BAKU = ZoneInfo("Asia/Baku")
Row = dict[str, Any]
E = TypeVar("E")


def month_of(at: datetime) -> str:
    """The calendar month of a moment in Azerbaijan, `YYYY-MM`."""
    return at.astimezone(BAKU).strftime("%Y-%m")


class Refs:
    """The pseudonymous ref of an application, the same partners see on the public streams."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, application_id: UUID) -> UUID:
        return public_application_id(application_id, self._key)


def place_of(district: str, geography: Geography) -> Unit:
    """The district as the geography names it; an unknown one can never be counted."""
    try:
        return geography.unit(district)
    except UnknownUnit as unknown:
        raise Rejected(str(unknown)) from unknown


def application_row(received: pub.PublicApplicationReceived, geography: Geography) -> Row:
    unit = place_of(received.district, geography)
    return {
        "ref": received.application_ref,
        "received_at": received.received_at,
        "received_month": month_of(received.received_at),
        "district": unit.name,
        "region": unit.region,
        "channel": received.channel,
        "service_requested": received.service_requested.value,
        "revision": received.revision,
    }


def decision_row(ref: UUID, made: p.DecisionMade) -> Row:
    return {
        "ref": ref,
        "decided_at": made.decided_at,
        "outcome": made.outcome.value,
        "age_band": made.age_band.value if made.age_band is not None else None,
        "need_level": made.need_level,
        "rule_set_version": made.rule_set_version,
    }


def latest_of(
    events: Iterable[tuple[UUID, E]], known: Mapping[UUID, datetime], at: Callable[[E], datetime]
) -> dict[UUID, E]:
    """The events (a decision, a pre-screen) that are now the latest of their ref by `at`: later
    than the one stored (`known`, by ref) and than any other of the batch. Whatever order they
    come in, the latest stays."""
    latest: dict[UUID, E] = {}
    for ref, made in events:
        before = latest.get(ref)
        stored = known.get(ref)
        if (before is None or at(made) >= at(before)) and (stored is None or at(made) >= stored):
            latest[ref] = made
    return latest


def each(latest: Mapping[UUID, E], column: str, values: Callable[[E], Iterable[str]]) -> list[Row]:
    """A row per ref and value of the events (a decision's groups, a pre-screen's directions),
    each value once."""
    return [
        {"ref": ref, column: str(value)}
        for ref, made in latest.items()
        for value in dict.fromkeys(values(made))
    ]


def life_event_row(ref: UUID, made: p.PrescreenMade, geography: Geography) -> Row:
    unit = place_of(made.district, geography)
    return {
        "ref": ref,
        "kind": made.kind.value,
        "district": unit.name,
        "region": unit.region,
        "screened_at": made.screened_at,
        "screened_month": month_of(made.screened_at),
        "outcome": made.outcome.value,
    }


def offer_row(refs: Refs, updated: p.OfferUpdated) -> Row:
    """An offer's status as of this event; the time it was offered when this is its offer (made,
    or open again)."""
    offered = updated.status is p.OfferStatus.OFFERED
    application = updated.application_id
    return {
        "ref": refs(updated.offer_id),
        "status": updated.status.value,
        "offered_at": updated.updated_at if offered else None,
        "updated_at": updated.updated_at,
        "application_ref": refs(application) if application is not None else None,
    }


def offers(rows: Iterable[Row]) -> list[Row]:
    """One row per offer of a batch: the status (and application) of its latest event, the first
    time it was offered."""
    found: dict[Any, Row] = {}
    for row in rows:
        before = found.get(row["ref"])
        if before is None:
            found[row["ref"]] = dict(row)
            continue
        times = [at for at in (before["offered_at"], row["offered_at"]) if at is not None]
        if row["updated_at"] >= before["updated_at"]:
            before.update(row)
        before["offered_at"] = min(times, default=None)
    return list(found.values())


def placement_made_row(ref: UUID, made: p.PlacementMade) -> Row:
    return placement_row(
        made.placement_id,
        ref,
        made.provider_id,
        provision_type=made.provision_type.value,
        offered_at=made.placed_at,
    )


def placement_updated_row(ref: UUID, updated: p.PlacementUpdated) -> Row:
    if updated.status is p.PlacementStatus.STARTED:
        return placement_row(
            updated.placement_id,
            ref,
            updated.provider_id,
            started_at=updated.updated_at,
            started_month=month_of(updated.updated_at),
        )
    if updated.status is p.PlacementStatus.ACCEPTED:
        return placement_row(
            updated.placement_id, ref, updated.provider_id, accepted_at=updated.updated_at
        )
    return placement_row(updated.placement_id, ref, updated.provider_id)


def placement_released_row(ref: UUID, released: p.PlacementReleased) -> Row:
    known = released.reason in {reason.value for reason in p.ReleaseReason}
    return placement_row(
        released.placement_id,
        ref,
        released.provider_id,
        released_at=released.released_at,
        # The private reason is free text in its schema; the figures use the closed list.
        release_reason=released.reason if known else p.ReleaseReason.OTHER.value,
    )


PLACEMENT_FACTS = (
    "provision_type",
    "offered_at",
    "accepted_at",
    "started_at",
    "started_month",
    "released_at",
    "release_reason",
)


def placement_row(placement_id: UUID, ref: UUID, provider_id: str, **facts: Any) -> Row:
    """Every column, the ones this event does not know None (filled by the placement's others)."""
    return {
        "placement_id": placement_id,
        "ref": ref,
        "provider_id": provider_id,
        **dict.fromkeys(PLACEMENT_FACTS),
        **facts,
    }


def waitlist_row(ref: UUID, waiting: p.PlacementWaitlisted) -> Row:
    return {
        "ref": ref,
        "provision_type": waiting.provision_type.value,
        "waitlisted_at": waiting.waitlisted_at,
    }


def provider_row(changed: pub.PublicProviderChanged) -> Row:
    return {
        "provider_id": changed.provider_id,
        "provision_type": changed.provision_type.value,
        "name": changed.name,
        "organisation": changed.organisation,
        "capacity": changed.capacity,
        "contract_start": changed.contract_start,
        "contract_end": changed.contract_end,
        "changed_at": changed.changed_at,
    }


def message_row(ref: UUID, outcome: p.NotificationDelivered | p.NotificationFailed) -> Row | None:
    """A delivery, or a final failure; None for a failure on one channel that another follows."""
    if isinstance(outcome, p.NotificationFailed):
        if not outcome.final:
            return None
        delivered_at, failed_at = None, outcome.failed_at
    else:
        delivered_at, failed_at = outcome.delivered_at, None
    return {
        "notification_id": outcome.notification_id,
        "ref": ref,
        "channel": outcome.channel.value,
        "language": outcome.language.value if outcome.language is not None else None,
        "message_kind": outcome.message_kind,
        "delivered_at": delivered_at,
        "failed_at": failed_at,
    }


def appeal_lodged_row(ref: UUID, lodged: AppealLodged) -> Row:
    return {
        "appeal_id": lodged.appeal_id,
        "ref": ref,
        "lodged_at": lodged.lodged_at,
        "respond_by": lodged.respond_by,
        "status": None,
        "decided_at": None,
        "overdue": None,
    }


def appeal_decided_row(ref: UUID, decided: AppealDecided) -> Row:
    return {
        "appeal_id": decided.appeal_id,
        "ref": ref,
        "lodged_at": None,
        "respond_by": None,
        "status": decided.status.value,
        "decided_at": decided.decided_at,
        "overdue": decided.overdue,
    }


def withdrawal_row(ref: UUID, withdrawn: p.ConsentWithdrawn) -> Row:
    return {
        "ref": ref,
        "withdrawn_at": withdrawn.withdrawn_at,
        "for_statistics": p.ConsentPurpose.STATISTICS in withdrawn.purposes,
    }


def combined(rows: Sequence[Row], key: Sequence[str]) -> list[Row]:
    """Rows of the same key merged into one, each column its first known (non-None) value: what
    several events of one thing in a batch say together."""
    merged: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        found = merged.setdefault(tuple(row[k] for k in key), dict(row))
        for column, value in row.items():
            if found[column] is None:
                found[column] = value
    return list(merged.values())


def latest(rows: Iterable[Row], key: str, order: str) -> list[Row]:
    """One row per `key`, the one with the greatest `order` (the later of two equal ones): what
    the last of several events of one thing in a batch says."""
    found: dict[Any, Row] = {}
    for row in rows:
        before = found.get(row[key])
        if before is None or row[order] >= before[order]:
            found[row[key]] = row
    return list(found.values())
