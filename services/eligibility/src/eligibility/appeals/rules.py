"""The appeal rules, in pure code: what may be appealed and until when, the reviewer's time limit,
and the decision an overturn makes.

Days are counted in Asia/Baku, where the ministry works: an appeal lodged on the last day is in
time whatever the hour, and a reviewer's limit runs to the end of its last day.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eligibility.appeals.policy import AppealPolicy
from socialsvc_common.contract.appeals import AppealStatus, AppealSubject
from socialsvc_common.contract.payloads import (
    AgeBand,
    DecisionMade,
    Outcome,
    ProvisionType,
    ReleaseReason,
)

BAKU = ZoneInfo("Asia/Baku")


class AppealRefused(Exception):
    """An appeal step that the rules refuse: an HTTP status, a problem type and words a caller
    can act on, and the field of the request at fault when there is one."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


# Releases the person did not ask for. A declined offer, a move, a death or a withdrawn consent
# is not appealed.
APPEALABLE_RELEASES = frozenset(
    {ReleaseReason.SERVICE_ENDED.value, ReleaseReason.OFFER_LAPSED.value, ReleaseReason.OTHER.value}
)


def lodging_deadline(at: datetime, policy: AppealPolicy, subject: AppealSubject) -> date:
    """The last day an appeal about something that happened `at` is taken."""
    return at.astimezone(BAKU).date() + timedelta(days=policy.lodging_days.of(subject))


def appeal_by(decided_at: datetime, policy: AppealPolicy) -> date:
    """The last day an appeal against a decision made at `decided_at` is taken."""
    return lodging_deadline(decided_at, policy, AppealSubject.DECISION)


def respond_by(lodged_at: datetime, policy: AppealPolicy, subject: AppealSubject) -> datetime:
    """The reviewer's time limit: the end of the policy's last day after the lodging day."""
    last = lodged_at.astimezone(BAKU).date() + timedelta(days=policy.review_days.of(subject))
    return datetime.combine(last + timedelta(days=1), time(), BAKU).astimezone(UTC)


def check_lodging(
    decision: DecisionMade,
    *,
    claimed_need_level: int | None,
    open_appeal: UUID | None,
    now: datetime,
    policy: AppealPolicy,
) -> None:
    """Refuses an appeal against the application's current decision that the rules do not take:
    one already open, an eligible decision without a claim to a higher need level, or one past
    the policy's deadline."""
    _check_none_open(open_appeal)
    if decision.outcome is Outcome.ELIGIBLE:
        found = decision.need_level or 0
        if claimed_need_level is None or claimed_need_level <= found:
            raise AppealRefused(
                422,
                "not-appealable",
                f"the decision is eligible at need level {found}; an eligible decision is "
                "appealed only to claim a higher need level",
                field="claimed_need_level",
            )
    _check_in_time(decision.decided_at, AppealSubject.DECISION, now, policy)


def check_placement_lodging(
    kind: str,
    reason: str,
    ended_at: datetime,
    *,
    open_appeal: UUID | None,
    now: datetime,
    policy: AppealPolicy,
) -> None:
    """Refuses an appeal about a placement's refusal or release that the rules do not take: one
    already open, a release the person asked for or that a move, a death or a withdrawal caused,
    or one past the policy's deadline."""
    _check_none_open(open_appeal)
    if kind == "released" and reason not in APPEALABLE_RELEASES:
        raise AppealRefused(
            422,
            "not-appealable",
            f"the placement was released because of {reason}; appealed are refusals and "
            f"releases because of {', '.join(sorted(APPEALABLE_RELEASES))}",
            field="subject",
        )
    _check_in_time(ended_at, AppealSubject.PLACEMENT, now, policy)


def _check_none_open(open_appeal: UUID | None) -> None:
    if open_appeal is not None:
        raise AppealRefused(
            409,
            "appeal-open",
            f"appeal {open_appeal} about this application is still open; a reviewer decides it",
        )


def _check_in_time(
    at: datetime, subject: AppealSubject, now: datetime, policy: AppealPolicy
) -> None:
    last = lodging_deadline(at, policy, subject)
    if now.astimezone(BAKU).date() > last:
        raise AppealRefused(
            422,
            "appeal-deadline-passed",
            f"appeals about the {subject.value} of {at.astimezone(BAKU).date()} were taken "
            f"until {last} (policy {policy.version})",
        )


def check_decidable(status: AppealStatus) -> None:
    if status is not AppealStatus.LODGED:
        raise AppealRefused(409, "appeal-decided", f"the appeal was {status.value} already")


def is_overdue(status: AppealStatus, respond_by: datetime, now: datetime) -> bool:
    return status is AppealStatus.LODGED and now >= respond_by


def granted_provisions(
    appealed: DecisionMade, requested: str | None, given: Sequence[ProvisionType] | None
) -> list[ProvisionType]:
    """What an overturn grants: what the reviewer names, else what the decision found, else the
    service applied for; refused when none of them names a provision."""
    if given:
        return list(dict.fromkeys(given))
    if appealed.provision_types:
        return list(appealed.provision_types)
    if requested in set(ProvisionType):
        return [ProvisionType(requested)]
    raise AppealRefused(
        422,
        "provision-needed",
        "the application asked for any service: name the provision types the overturn grants",
        field="provision_types",
    )


def overturned_decision(
    appealed: DecisionMade,
    *,
    appeal_id: UUID,
    provisions: list[ProvisionType],
    need_level: int | None,
    now: datetime,
    age_band: AgeBand | None = None,
) -> DecisionMade:
    """The decision an overturn makes: eligible for `provisions`, naming the appeal. The rules'
    findings stay as they were, so the history shows what the reviewer set aside. The age band is
    the one on the day of the overturn, where the facts still hold the birth date."""
    changes: dict[str, Any] = {
        "outcome": Outcome.ELIGIBLE,
        "decided_at": now,
        "age_band": age_band or appealed.age_band,
        "provision_types": provisions,
        "missing": [],
        "appeal_id": appeal_id,
        "appeal_by": None,
    }
    if need_level is not None:
        changes["need_level"] = need_level
    return appealed.model_copy(update=changes)
