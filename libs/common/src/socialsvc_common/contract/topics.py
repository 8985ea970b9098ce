"""The topic registry: every topic of the platform, declared once.

Topics are created from this registry by `socialsvc-topics` (make topics); clients
never create them.
Names follow `<owner>.<entity>.<event>.v<major>`. The key of every event topic is the application
id, so all events of one application stay ordered on one partition.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel

from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import public as pub
from socialsvc_common.contract.appeals import AppealDecided, AppealLodged
from socialsvc_common.contract.erasure import SubjectErased

DAY_MS = 24 * 60 * 60 * 1000


class CleanupPolicy(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"


@dataclass(frozen=True, slots=True)
class Topic:
    """One Kafka topic and what travels on it."""

    name: str
    payload: type[BaseModel]
    description: str
    partitions: int = 6
    retention_ms: int = 30 * DAY_MS
    cleanup_policy: CleanupPolicy = CleanupPolicy.DELETE
    key: str = "application id"
    extra_config: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def major_version(self) -> int:
        return int(self.name.rsplit(".v", 1)[1])

    def config(self) -> dict[str, str]:
        """The topic-level Kafka configuration this registry entry asks for."""
        return {
            "cleanup.policy": self.cleanup_policy.value,
            "retention.ms": str(self.retention_ms),
            **self.extra_config,
        }


EGOV_APPLICATION_SUBMITTED = Topic(
    "egov.application.submitted.v1",
    p.ApplicationForm,
    "Applications from the e-government form channel; intake treats them like HTTP submissions. "
    "The CloudEvents id is the submission's idempotency key.",
)


def life_event_topic(registry: p.Registry) -> Topic:
    """The life events one state registry reports; only that registry's principal writes it, so
    an event's topic says which registry vouches for it."""
    return Topic(
        f"registry.{registry.value}.recorded.v1",
        p.LifeEventRecorded,
        f"Life events the {registry.value} registry recorded, for proactive services; "
        "eligibility pre-screens each once per registry reference.",
        key="life event id",
    )


LIFE_EVENTS = {registry: life_event_topic(registry) for registry in p.Registry}
APPLICATION_RECEIVED = Topic(
    "intake.application.received.v1",
    p.ApplicationReceived,
    "An application was accepted by intake (new, or with added facts).",
)
CONSENT_WITHDRAWN = Topic(
    "intake.consent.withdrawn.v1",
    p.ConsentWithdrawn,
    "A person withdrew their consent to an application: every service stops processing it; "
    "notifications confirms the withdrawal, and nothing after.",
)
INFORMATION_REMINDED = Topic(
    "intake.information.reminded.v1",
    p.InformationReminded,
    "The facts a needs-information decision asked for have not come: the person is reminded once "
    "(intake's needs-information policy), with the date the application expires.",
)
APPLICATION_EXPIRED = Topic(
    "intake.application.expired.v1",
    p.ApplicationExpired,
    "An application asking for facts that never came was closed as expired (intake's "
    "needs-information policy).",
)
DECISION_MADE = Topic(
    "eligibility.decision.made.v1",
    p.DecisionMade,
    "Eligibility decided an application: eligible, ineligible or needs information.",
)
APPEAL_LODGED = Topic(
    "eligibility.appeal.lodged.v1",
    AppealLodged,
    "An appeal against a decision was lodged; a reviewer answers it within the policy's time.",
)
APPEAL_DECIDED = Topic(
    "eligibility.appeal.decided.v1",
    AppealDecided,
    "A reviewer upheld or overturned an appeal; an overturn is followed by a new decision.",
)
PLACEMENT_MADE = Topic(
    "assignment.placement.made.v1",
    p.PlacementMade,
    "A person was placed with a provider.",
)
PLACEMENT_WAITLISTED = Topic(
    "assignment.placement.waitlisted.v1",
    p.PlacementWaitlisted,
    "No place was free; the person waits by priority.",
)
PLACEMENT_REFUSED = Topic(
    "assignment.placement.refused.v1",
    p.PlacementRefused,
    "No placement: it would clash with one the person holds (home care and residential care).",
)
PLACEMENT_UPDATED = Topic(
    "assignment.placement.updated.v1",
    p.PlacementUpdated,
    "A placement moved along: offer accepted, service started.",
)
PLACEMENT_RELEASED = Topic(
    "assignment.placement.released.v1",
    p.PlacementReleased,
    "A place was released and can go to the next person.",
)
REVIEW_DUE = Topic(
    "assignment.review.due.v1",
    p.ReviewDue,
    "A placement's review date came: eligibility decides again on the facts it holds and the "
    "person is asked to tell their social worker of changes.",
)
REVIEW_CONCLUDED = Topic(
    "assignment.review.concluded.v1",
    p.ReviewConcluded,
    "A review's decision was applied: the service continues until the next review, or ends.",
)
REVIEW_OVERDUE = Topic(
    "assignment.review.overdue.v1",
    p.ReviewOverdue,
    "A review was not concluded within its grace period: escalated to staff.",
)
SERVICE_DELIVERED = Topic(
    "assignment.service.delivered.v1",
    p.ServiceDelivered,
    "A provider delivered a service (a visit, a session, a meal, care) on a started placement.",
)
NOTIFICATION_DELIVERED = Topic(
    "notifications.message.delivered.v1",
    p.NotificationDelivered,
    "A message reached the citizen through a channel.",
)
NOTIFICATION_FAILED = Topic(
    "notifications.message.failed.v1",
    p.NotificationFailed,
    "A message could not be delivered through a channel.",
)
HOME_VISIT_REQUESTED = Topic(
    "notifications.visit.requested.v1",
    p.HomeVisitRequested,
    "No channel reached a person who lives alone; the home-care team should tell them in person.",
)

SUBJECT_ERASED = Topic(
    "intake.subject.erased.v1",
    SubjectErased,
    "A person's data was erased (on a lawful request, or when retention ended), one event per "
    "application: every holder anonymises what it keeps of that application. No personal data.",
    retention_ms=365 * DAY_MS,
)

# What notifications writes, besides its dead letters.
NOTIFICATION_TOPICS = (NOTIFICATION_DELIVERED, NOTIFICATION_FAILED, HOME_VISIT_REQUESTED)


# --- Partner streams: public.*, no personal data, keyed by the pseudonymous application id. ---
PUBLIC_KEY = "pseudonymous application id"
PUBLIC_APPLICATION_RECEIVED = Topic(
    "public.application.received.v1",
    pub.PublicApplicationReceived,
    "An application was taken in, or facts were added to it (fed by intake).",
    key=PUBLIC_KEY,
)
PUBLIC_APPLICATION_DECIDED = Topic(
    "public.application.decided.v1",
    pub.PublicApplicationDecided,
    "An application was decided: eligible, ineligible or needs information (fed by eligibility).",
    key=PUBLIC_KEY,
)
PUBLIC_APPLICATION_PLACED = Topic(
    "public.application.placed.v1",
    pub.PublicApplicationPlaced,
    "A place with a provider was offered (fed by assignment).",
    key=PUBLIC_KEY,
)
PUBLIC_APPLICATION_WAITLISTED = Topic(
    "public.application.waitlisted.v1",
    pub.PublicApplicationWaitlisted,
    "No place was free; the application waits by priority (fed by assignment).",
    key=PUBLIC_KEY,
)
PUBLIC_APPLICATION_RELEASED = Topic(
    "public.application.released.v1",
    pub.PublicApplicationReleased,
    "A place was given up and goes to the next person waiting (fed by assignment).",
    key=PUBLIC_KEY,
)
PUBLIC_PROVIDER_CHANGED = Topic(
    "public.provider.changed.v1",
    pub.PublicProviderChanged,
    "A provider was added or changed: capacity, districts, groups, an NGO project's contract "
    "(fed by assignment; compacted, so it holds every provider's latest state).",
    partitions=3,
    retention_ms=-1,
    cleanup_policy=CleanupPolicy.COMPACT,
    key="name-based UUID of the provider id (public.provider_subject)",
)
PUBLIC_APPLICATION_TOPICS = (
    PUBLIC_APPLICATION_RECEIVED,
    PUBLIC_APPLICATION_DECIDED,
    PUBLIC_APPLICATION_PLACED,
    PUBLIC_APPLICATION_WAITLISTED,
    PUBLIC_APPLICATION_RELEASED,
)
PUBLIC_TOPICS = (*PUBLIC_APPLICATION_TOPICS, PUBLIC_PROVIDER_CHANGED)
# --- end of the partner streams ---


# The operators' own record, written by `socialsvc-ops`: every dead letter replayed, so a second
# replay of the same letter can be told apart and an audit can follow who sent what back.
OFFER_MADE = Topic(
    "intake.offer.made.v1",
    p.OfferMade,
    "A proactive offer to a person a state registry's life event points to, after a pre-screen "
    "said they likely qualify; accepted or declined on the portal, or lapsed unanswered.",
    key="life event id",
)
OFFER_UPDATED = Topic(
    "intake.offer.updated.v1",
    p.OfferUpdated,
    "What became of a proactive offer: made, accepted with its application, declined, lapsed "
    "unanswered by its day, or open again. No identity: the funnel of proactive services.",
    key="life event id",
)
PRESCREEN_MADE = Topic(
    "eligibility.prescreen.made.v1",
    p.PrescreenMade,
    "A life event pre-screened by the rule set in force: whether the person likely qualifies, "
    "and for what. No identity: the district and the kind only.",
    key="life event id",
)
DEAD_LETTER_REPLAYED = Topic(
    "ops.deadletter.replayed.v1",
    p.DeadLetterReplayed,
    "An operator replayed a dead letter to its original topic.",
    partitions=3,
    retention_ms=365 * DAY_MS,
)


def dead_letter_topic(consumer: str) -> Topic:
    """The dead-letter topic of one consuming service."""
    return Topic(
        f"{consumer}.record.deadlettered.v1",
        p.DeadLetter,
        f"Records the {consumer} service could not process, with the reason; replayable.",
        partitions=3,
        retention_ms=90 * DAY_MS,
        key="original key",
    )


CONSUMERS = ("intake", "eligibility", "assignment", "notifications", "statistics")
DEAD_LETTERS = {consumer: dead_letter_topic(consumer) for consumer in CONSUMERS}

REGISTRY: tuple[Topic, ...] = (
    EGOV_APPLICATION_SUBMITTED,
    *LIFE_EVENTS.values(),
    APPLICATION_RECEIVED,
    CONSENT_WITHDRAWN,
    INFORMATION_REMINDED,
    APPLICATION_EXPIRED,
    DECISION_MADE,
    PRESCREEN_MADE,
    OFFER_MADE,
    OFFER_UPDATED,
    APPEAL_LODGED,
    APPEAL_DECIDED,
    PLACEMENT_MADE,
    PLACEMENT_WAITLISTED,
    PLACEMENT_UPDATED,
    PLACEMENT_REFUSED,
    PLACEMENT_RELEASED,
    REVIEW_DUE,
    REVIEW_CONCLUDED,
    REVIEW_OVERDUE,
    SERVICE_DELIVERED,
    NOTIFICATION_DELIVERED,
    NOTIFICATION_FAILED,
    HOME_VISIT_REQUESTED,
    SUBJECT_ERASED,
    *DEAD_LETTERS.values(),
    *PUBLIC_TOPICS,
    DEAD_LETTER_REPLAYED,
)


def by_name(name: str) -> Topic:
    """The registry entry of a topic name; KeyError names the unknown topic."""
    for topic in REGISTRY:
        if topic.name == name:
            return topic
    raise KeyError(f"topic {name!r} is not in the registry")
