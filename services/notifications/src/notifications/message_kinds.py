"""Which message each event calls for, and what it may mention (no personal data): pure."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from notifications.templates import MessageKind
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.appeals import AppealDecided, AppealLodged, AppealStatus
from socialsvc_common.refusals import deciding_reasons

# An event that calls for no message still gets a row, so messages it causes need not wait for it.
SILENT = None

# What a release tells the person. A release after a withdrawal of consent is silent (the
# withdrawal has its own confirmation), and so is one after a death; a reason added later reads
# as the generic "stopped".
RELEASE_KINDS: dict[str, MessageKind | None] = {
    p.ReleaseReason.DECLINED: MessageKind.OFFER_DECLINED,
    p.ReleaseReason.OFFER_LAPSED: MessageKind.OFFER_LAPSED,
    p.ReleaseReason.SERVICE_ENDED: MessageKind.SERVICE_ENDED,
    p.ReleaseReason.MOVED: MessageKind.PLACEMENT_RELEASED,
    p.ReleaseReason.OTHER: MessageKind.PLACEMENT_RELEASED,
    p.ReleaseReason.DIED: SILENT,
    p.ReleaseReason.CONSENT_WITHDRAWN: SILENT,
    # The review's conclusion tells it (assignment.review.concluded.v1), with the appeal's day.
    p.ReleaseReason.REVIEW_ENDED: SILENT,
}
UPDATE_KINDS: dict[p.PlacementStatus, MessageKind] = {
    p.PlacementStatus.ACCEPTED: MessageKind.OFFER_ACCEPTED,
    p.PlacementStatus.STARTED: MessageKind.SERVICE_STARTED,
}


def message_for(payload: BaseModel) -> tuple[MessageKind | None, dict[str, Any]] | None:  # noqa: PLR0911
    """The kind of message an event calls for and what it may mention (no personal data)."""
    match payload:
        case p.ApplicationReceived(revision=1):
            return MessageKind.RECEIVED, {}
        case p.ApplicationReceived():
            # Added facts: the new decision that follows is the message worth sending.
            return SILENT, {}
        case p.DecisionMade(review_id=UUID()):
            # A review's decision is told by its conclusion: the service continues or ends.
            return SILENT, {}
        case p.DecisionMade():
            return _decision(payload)
        case p.PlacementMade():
            context = payload.model_dump(
                mode="json", include={"provider_name", "provision_type", "district"}
            )
            return MessageKind.PLACEMENT_MADE, context | {
                "offer_expires_at": _iso(payload.offer_expires_at),
                "placement_id": str(payload.placement_id),
            }
        case p.PlacementWaitlisted():
            return MessageKind.PLACEMENT_WAITLISTED, payload.model_dump(
                mode="json", include={"provision_type", "district"}
            )
        case p.PlacementUpdated():
            return UPDATE_KINDS.get(payload.status, SILENT), _placement(payload.placement_id)
        case p.PlacementReleased():
            kind = RELEASE_KINDS.get(payload.reason, MessageKind.PLACEMENT_RELEASED)
            return kind, _placement(payload.placement_id) | _appeal(payload)
        case p.PlacementRefused():
            types = [t.value for t in payload.provision_types]
            return MessageKind.PLACEMENT_REFUSED, {"provision_types": types} | _appeal(payload)
    return _later_turns(payload)


def _later_turns(payload: BaseModel) -> tuple[MessageKind | None, dict[str, Any]] | None:  # noqa: PLR0911
    """Reminders and expiry of facts asked for, withdrawals, appeals and reviews."""
    match payload:
        case p.InformationReminded():
            return MessageKind.INFORMATION_REMINDER, {
                "missing": list(payload.missing),
                "expires_at": _iso(payload.expires_at),
            }
        case p.ApplicationExpired():
            return MessageKind.APPLICATION_EXPIRED, {}
        case p.OfferMade():
            # What the person may receive and the last day to accept; nothing of the life event.
            return MessageKind.PROACTIVE_OFFER, {
                "provision_types": [t.value for t in payload.provision_types],
                "expires_at": payload.answer_by.isoformat(),
            }
        case p.ConsentWithdrawn():
            return MessageKind.CONSENT_WITHDRAWN, {}
        case AppealLodged():
            return MessageKind.APPEAL_RECEIVED, {}
        case AppealDecided(status=AppealStatus.OVERTURNED):
            return MessageKind.APPEAL_OVERTURNED, {}
        case AppealDecided():
            return MessageKind.APPEAL_UPHELD, {}
        case p.ReviewDue():
            return MessageKind.REVIEW_DUE, {"provision_type": payload.provision_type.value}
        case p.ReviewConcluded():
            kind = MessageKind(f"review_{payload.outcome.value}")
            return kind, {"provision_type": payload.provision_type.value} | _appeal(payload)
    return None


def _decision(decision: p.DecisionMade) -> tuple[MessageKind, dict[str, Any]]:
    kind = MessageKind(f"decision_{decision.outcome.value}")
    refused = decision.outcome is p.Outcome.INELIGIBLE
    context = {
        "provision_types": [t.value for t in decision.provision_types],
        # A refusal states the reasons that decided it, never two that contradict.
        "reasons": deciding_reasons(decision.rules) if refused else decision.refusal_reasons(),
        "missing": list(decision.missing),
    }
    return kind, context | (_appeal(decision) if refused else {})


def _placement(placement_id: UUID) -> dict[str, Any]:
    # Which offer an answer is about: it cancels that offer's reminder (offer_reminders).
    return {"placement_id": str(placement_id)}


def _appeal(payload: BaseModel) -> dict[str, Any]:
    # The last day to appeal, where the event carries one (`appeal_by`, optional in the contract).
    appeal_by = getattr(payload, "appeal_by", None)
    return {"appeal_by": _iso(appeal_by)} if appeal_by else {}


def _iso(value: date | datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
