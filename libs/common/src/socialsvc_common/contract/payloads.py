"""Payloads of the platform's events: facts in the past tense, one model per event family.

Within a major version only optional fields may be added; consumers ignore fields they do not know.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socialsvc_common.geography import UnknownUnit, load_geography


class Payload(BaseModel):
    """Base of every event payload: immutable, tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Language(StrEnum):
    AZ = "az"
    RU = "ru"
    EN = "en"


class ServiceRequested(StrEnum):
    HOME_CARE = "home_care"
    RESIDENTIAL = "residential"
    NGO_PROJECT = "ngo_project"
    ANY = "any"


class ProvisionType(StrEnum):
    HOME_CARE = "home_care"
    RESIDENTIAL = "residential"
    NGO_PROJECT = "ngo_project"


class DailyActivity(StrEnum):
    WASHING = "washing"
    DRESSING = "dressing"
    EATING = "eating"
    MOVING_ABOUT = "moving_about"
    TOILET = "toilet"
    HOUSEWORK = "housework"
    SHOPPING = "shopping"
    MEDICATION = "medication"


class TargetGroup(StrEnum):
    """Who is served (DOMAIN.md): the groups rules, providers and statistics speak of."""

    ELDERLY = "elderly"
    ELDERLY_ALONE = "elderly_alone"
    DISABILITY = "disability"
    CHILD_WITH_DISABILITY = "child_with_disability"
    TRAFFICKING_VICTIM = "trafficking_victim"
    DOMESTIC_VIOLENCE_VICTIM = "domestic_violence_victim"
    RELEASED_FROM_PRISON = "released_from_prison"
    INSTITUTION_GRADUATE = "institution_graduate"
    LOW_INCOME_FAMILY = "low_income_family"


class AgeBand(StrEnum):
    """How old a person was when decided, coarse enough to travel without the birth date."""

    CHILD = "0-17"
    YOUNG_ADULT = "18-34"
    ADULT = "35-64"
    OLDER = "65-79"
    OLDEST = "80+"

    @classmethod
    def for_age(cls, years: int) -> "AgeBand":
        limits = ((cls.CHILD, 18), (cls.YOUNG_ADULT, 35), (cls.ADULT, 65), (cls.OLDER, 80))
        return next((band for band, below in limits if years < below), cls.OLDEST)


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    EGOV_INBOX = "egov_inbox"


FIN_PATTERN = r"^[0-9A-Z]{7}$"
Fin = Annotated[str, Field(pattern=FIN_PATTERN, description="Personal identification number")]
MobilePhone = Annotated[str, Field(pattern=r"^\+994\d{9}$", description="+994, operator, 7 digits")]
# Deliberately plain: no quoting, comments, brackets or lists, which mail libraries read in
# surprising ways (a comma can make a second recipient).
PersonRef = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{32}$",
        description="the person behind an application, pseudonymous: a keyed hash of the FIN",
    ),
]
Email = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$",
        max_length=254,
    ),
]
OLDEST_AGE_YEARS = 130
CONSENT_VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z.-]{0,39}$"


class Applicant(Payload):
    fin: Fin
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    birth_date: date
    mobile_phone: MobilePhone
    email: Email | None = None
    language: Language = Language.AZ
    district: str = Field(min_length=1, max_length=100)
    preferred_channel: Channel | None = Field(
        default=None,
        description="tried first; without it e-mail when given, then SMS, then the e-gov inbox",
    )

    @field_validator("district")
    @classmethod
    def _known_district(cls, value: str) -> str:
        # The spelling of the presidential decree (and Baku's city districts), so that matching
        # by district and region finds the teams that serve the person.
        try:
            return load_geography().canonical(value)
        except UnknownUnit:
            raise ValueError(
                f"unknown district or city {value!r}; use the Azerbaijani name, e.g. Xətai, Gəncə"
            ) from None

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date) -> date:
        today = date.today()
        if value > today:
            raise ValueError("birth date is in the future")
        if value.year < today.year - OLDEST_AGE_YEARS:
            raise ValueError(f"birth date is more than {OLDEST_AGE_YEARS} years ago")
        return value


class Circumstances(Payload):
    lives_alone: bool = False
    household_size: int = Field(default=1, ge=1, le=30)
    monthly_household_income_azn: Decimal | None = Field(
        default=None, ge=0, max_digits=12, description="None: not stated yet"
    )
    disability_group: int | None = Field(default=None, ge=1, le=3)
    child_with_disability: bool = False
    trafficking_victim: bool = False
    domestic_violence_victim: bool = False
    released_from_prison: bool = False
    children_institution_graduate: bool = False
    activities_needing_help: list[DailyActivity] = Field(default_factory=list)


class AddedFacts(Payload):
    """Facts added to an open application, e.g. what a needs-information decision asked for.
    Only the fields given change; the others keep what the application said."""

    lives_alone: bool | None = None
    household_size: int | None = Field(default=None, ge=1, le=30)
    monthly_household_income_azn: Decimal | None = Field(default=None, ge=0, max_digits=12)
    disability_group: int | None = Field(default=None, ge=1, le=3)
    child_with_disability: bool | None = None
    trafficking_victim: bool | None = None
    domestic_violence_victim: bool | None = None
    released_from_prison: bool | None = None
    children_institution_graduate: bool | None = None
    activities_needing_help: list[DailyActivity] | None = None


class ApplicationForm(Payload):
    """What a citizen or social worker submits, over HTTP or through the e-government topic."""

    service_requested: ServiceRequested
    applicant: Applicant
    circumstances: Circumstances = Field(default_factory=Circumstances)
    consent_to_processing: bool = Field(description="consent to the processing of personal data")
    consent_text_version: str | None = Field(
        default=None,
        pattern=CONSENT_VERSION_PATTERN,
        description="the version of the consent text the citizen was shown; without it, the "
        "version in force when intake takes the application in",
    )
    consent_language: Language | None = Field(
        default=None,
        description="the language the consent text was shown in; without it, the applicant's",
    )

    @field_validator("consent_to_processing")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError("consent to processing is required to handle the application")
        return value


class ApplicationReceived(Payload):
    application_id: UUID
    submitted_at: datetime
    channel: str = Field(description="web, egov or social_worker")
    service_requested: ServiceRequested
    applicant: Applicant
    circumstances: Circumstances
    revision: int = Field(
        default=1, ge=1, description="1 when submitted; one more each time facts are added"
    )
    person_ref: PersonRef | None = None


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    NEEDS_INFORMATION = "needs_information"


class RuleResult(Payload):
    rule: str
    passed: bool
    facts: dict[str, Any] = Field(default_factory=dict)
    threshold: Any = None
    reason: str | None = Field(default=None, description="message key explaining a failure")


class DecisionMade(Payload):
    application_id: UUID
    decided_at: datetime
    outcome: Outcome
    rule_set_version: str
    district: str
    groups: list[TargetGroup] = Field(default_factory=list)
    person_ref: PersonRef | None = None
    need_level: int | None = None
    priority_score: float | None = None
    provision_types: list[ProvisionType] = Field(default_factory=list)
    rules: list[RuleResult] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    appeal_id: UUID | None = Field(
        default=None, description="set on a decision an appeal's overturn made: that appeal"
    )
    appeal_by: date | None = Field(
        default=None,
        description="on a refusal: the last day (Asia/Baku) an appeal against it is taken",
    )
    review_id: UUID | None = Field(
        default=None,
        description="set when a placement's review caused this decision (assignment.review.due)",
    )
    age_band: AgeBand | None = Field(
        default=None, description="the person's age band on the day of the decision"
    )

    def refusal_reasons(self) -> list[str]:
        """The reasons to tell the person, each once, in rule order. An eligible decision has
        failed rules too (the routes the person did not qualify by); those are not told."""
        if self.outcome is Outcome.ELIGIBLE:
            return []
        failed = (rule.reason for rule in self.rules if not rule.passed and rule.reason)
        return list(dict.fromkeys(failed))


class PlacementMade(Payload):
    """A place offered to a person; it is theirs once accepted, until it is released."""

    application_id: UUID
    placement_id: UUID
    provider_id: str
    provider_name: str
    provision_type: ProvisionType
    district: str
    placed_at: datetime
    offer_expires_at: datetime | None = Field(
        default=None, description="unless accepted by then, the offer lapses and the place moves on"
    )


class PlacementRefused(Payload):
    """No placement: the person holds one that excludes every service they are eligible for."""

    application_id: UUID
    provision_types: list[ProvisionType]
    reason: str
    conflicting_placement_id: UUID
    refused_at: datetime


class PlacementStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    STARTED = "started"


class PlacementUpdated(Payload):
    """A placement moved along: the offer was accepted, or the service started."""

    application_id: UUID
    placement_id: UUID
    provider_id: str
    status: PlacementStatus
    updated_at: datetime
    review_due_at: datetime | None = Field(
        default=None, description="when the service started: when it is to be reviewed"
    )


class ReleaseReason(StrEnum):
    """Why a place was given up; each frees it for the next person waiting."""

    DECLINED = "declined"
    OFFER_LAPSED = "offer_lapsed"
    SERVICE_ENDED = "service_ended"
    MOVED = "moved"
    DIED = "died"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    REVIEW_ENDED = "review_ended"
    OTHER = "other"


class PlacementWaitlisted(Payload):
    application_id: UUID
    provision_type: ProvisionType
    district: str
    priority_score: float
    waitlisted_at: datetime


class PlacementReleased(Payload):
    application_id: UUID
    placement_id: UUID
    provider_id: str
    reason: str
    released_at: datetime


class ReviewDue(Payload):
    """A placement's review date came: the person is asked about changes and decided again on
    the facts held now. No personal data."""

    application_id: UUID
    placement_id: UUID
    review_id: UUID
    provision_type: ProvisionType
    due_at: datetime
    opened_at: datetime


class ReviewOutcome(StrEnum):
    CONTINUED = "continued"
    ENDED = "ended"


class ReviewConcluded(Payload):
    """The decision a review caused was applied: the service continues until the next review,
    or it ends (the placement is released with reason review_ended). No personal data."""

    application_id: UUID
    placement_id: UUID
    review_id: UUID
    provision_type: ProvisionType
    outcome: ReviewOutcome
    rule_set_version: str
    next_review_due_at: datetime | None = None
    concluded_at: datetime
    appeal_by: date | None = Field(
        default=None,
        description="on an ended service: the last day (Asia/Baku) an appeal against the "
        "decision that ended it is taken",
    )


class ReviewOverdue(Payload):
    """A review was not concluded within the grace period policy gives it: escalated once. No
    personal data."""

    application_id: UUID
    placement_id: UUID
    review_id: UUID
    due_at: datetime
    overdue_at: datetime
    escalated_at: datetime


class ServiceKind(StrEnum):
    """What a provider delivered to a person it serves."""

    VISIT = "visit"
    SESSION = "session"
    MEAL = "meal"
    CARE = "care"
    OTHER = "other"


class ServiceDelivered(Payload):
    """A provider recorded a service it delivered on a started placement. No personal data: the
    provider's note stays in assignment's database."""

    placement_id: UUID
    application_id: UUID
    provider_id: str
    kind: ServiceKind
    delivered_on: date
    minutes: int | None = Field(default=None, description="how long it took, when recorded")
    recorded_at: datetime


class ConsentPurpose(StrEnum):
    """What a person may agree to their data being used for (named in each consent text)."""

    ELIGIBILITY_ASSESSMENT = "eligibility_assessment"
    SERVICE_PROVISION = "service_provision"
    CONTACT = "contact"
    STATISTICS = "statistics"


class WithdrawalReason(StrEnum):
    CITIZEN_REQUEST = "citizen_request"
    REPRESENTATIVE_REQUEST = "representative_request"
    OTHER = "other"


class ConsentWithdrawn(Payload):
    """The person withdrew their consent: nothing more is done with the application, but telling
    them that it was withdrawn. No personal data."""

    application_id: UUID
    withdrawn_at: datetime
    reason: WithdrawalReason
    text_version: str = Field(description="the version of the consent text withdrawn")
    purposes: list[ConsentPurpose]
    withdrawn_by: str = Field(description="who recorded the withdrawal: role and key name")


class InformationReminded(Payload):
    """The facts a needs-information decision asked for have not come: the person is reminded,
    once, and told when the application expires. No personal data."""

    application_id: UUID
    reminded_at: datetime
    missing: list[str] = Field(default_factory=list, description="the facts still asked for")
    expires_at: datetime = Field(description="unless the facts come by then, the application ends")
    policy_version: str = Field(description="the version of intake's needs-information policy")


class ExpiryReason(StrEnum):
    INFORMATION_NOT_RECEIVED = "information_not_received"


class ApplicationExpired(Payload):
    """An application ended undecided: the facts asked for did not come in the time the policy
    gives. It is closed; the person may apply again. No personal data."""

    application_id: UUID
    expired_at: datetime
    reason: ExpiryReason
    policy_version: str = Field(description="the version of intake's needs-information policy")


class NotificationDelivered(Payload):
    application_id: UUID
    notification_id: UUID
    channel: Channel
    delivered_at: datetime
    segments: int | None = None
    language: Language | None = Field(default=None, description="the language of the message")
    message_kind: str | None = Field(default=None, description="what the message told")


class NotificationFailed(Payload):
    application_id: UUID
    notification_id: UUID
    channel: Channel
    failed_at: datetime
    reason: str
    final: bool = False
    language: Language | None = Field(default=None, description="the language of the message")
    message_kind: str | None = Field(default=None, description="what the message told")


class HomeVisitRequested(Payload):
    """No channel reached a person who lives alone: the home-care team is asked to tell them in
    person. The text is the message in the person's language; it names no personal data, the
    team finds the person through the application."""

    application_id: UUID
    notification_id: UUID
    district: str
    language: Language
    message_kind: str
    text: str
    channels_tried: list[Channel]
    requested_at: datetime


class DeadLetter(Payload):
    """Why a consumer gave up on a record. It travels as `dlq_*` headers beside the original key,
    value and headers, which are left unchanged so the record can be replayed as it was."""

    consumer: str
    original_topic: str
    original_partition: int
    original_offset: int
    error_class: str
    error_message: str
    failed_at: datetime
    attempts: int = 1


class DeadLetterReplayed(Payload):
    """An operator sent a dead letter back to its original topic (`socialsvc-ops dead-letters
    replay`): which letter, where the copy went, and who did it. No personal data."""

    consumer: str
    dead_letter_topic: str
    dead_letter_partition: int
    dead_letter_offset: int
    original_topic: str
    original_partition: int
    original_offset: int
    error_class: str
    replayed_partition: int
    replayed_offset: int
    replayed_at: datetime
    operator: str = Field(min_length=1, max_length=100)


class Registry(StrEnum):
    """The state registries that report life events, each a Kafka client of its own."""

    POPULATION = "population"  # the civil registry: ages and who lives at an address
    EDUCATION = "education"  # the state children's institutions
    JUSTICE = "justice"  # the penitentiary service
    DISABILITY = "disability"  # medical-social expert commissions


class LifeEventKind(StrEnum):
    TURNED_65_LIVING_ALONE = "turned_65_living_alone"
    LEFT_CHILDREN_INSTITUTION = "left_children_institution"
    RELEASED_FROM_PENITENTIARY = "released_from_penitentiary"
    DISABILITY_DETERMINED = "disability_determined"


# What each registry may report: the one kind of life event it keeps the record of.
REGISTRY_KINDS: dict[Registry, LifeEventKind] = {
    Registry.POPULATION: LifeEventKind.TURNED_65_LIVING_ALONE,
    Registry.EDUCATION: LifeEventKind.LEFT_CHILDREN_INSTITUTION,
    Registry.JUSTICE: LifeEventKind.RELEASED_FROM_PENITENTIARY,
    Registry.DISABILITY: LifeEventKind.DISABILITY_DETERMINED,
}
REFERENCE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._:/-]{0,63}$"
LIFE_EVENT_NAMESPACE = UUID("6c1f0f8e-3d6b-4f0e-9b7a-1d2c5e8a4b37")
BAKU = ZoneInfo("Asia/Baku")


class LifeEventRecorded(Payload):
    """A life event a state registry recorded about a person the platform may serve before they
    apply. Its id, `life_event_id`, is made from the registry and its reference, and is the
    envelope's subject: the pre-screen, any offer, the archive and an erasure go under it."""

    registry: Registry
    reference: str = Field(
        pattern=REFERENCE_PATTERN,
        description="the registry's own id of the record: one event per registry and reference",
    )
    kind: LifeEventKind
    occurred_on: date
    person: Applicant = Field(description="who, and how to reach them, as the registry holds it")
    lives_alone: bool | None = Field(default=None, description="None: the registry does not know")
    disability_group: int | None = Field(default=None, ge=1, le=3)

    @model_validator(mode="after")
    def _consistent(self) -> "LifeEventRecorded":
        if REGISTRY_KINDS[self.registry] is not self.kind:
            raise ValueError(
                f"the {self.registry.value} registry reports {REGISTRY_KINDS[self.registry].value}"
                f" events, not {self.kind.value}"
            )
        if self.kind is LifeEventKind.DISABILITY_DETERMINED and self.disability_group is None:
            raise ValueError("a disability determined comes with its group (1-3)")
        if self.kind is LifeEventKind.TURNED_65_LIVING_ALONE and self.lives_alone is not True:
            raise ValueError("turned_65_living_alone is reported for people who live alone")
        # A registry dates events by Baku's calendar, four hours ahead of UTC.
        if self.occurred_on > datetime.now(BAKU).date():
            raise ValueError("occurred_on is in the future")
        return self

    @property
    def life_event_id(self) -> UUID:
        """The platform's id of the life event: the same for every copy of one registry record,
        whatever event id or subject a copy came with, so every service keeps one and the
        pre-screen and the offer of a record meet."""
        return uuid5(LIFE_EVENT_NAMESPACE, f"{self.registry.value}:{self.reference}")


def life_event_circumstances(
    kind: LifeEventKind, lives_alone: bool | None, disability_group: int | None, **stated: Any
) -> Circumstances:
    """What a life event says of the person's circumstances, with what they `stated` since; the
    rest at the form's defaults. The pre-screen and the application an offer makes read it."""
    return Circumstances.model_validate(
        {
            "lives_alone": bool(lives_alone),
            "disability_group": disability_group,
            "released_from_prison": kind is LifeEventKind.RELEASED_FROM_PENITENTIARY,
            "children_institution_graduate": kind is LifeEventKind.LEFT_CHILDREN_INSTITUTION,
            **stated,
        }
    )


class Prescreen(StrEnum):
    LIKELY = "likely"  # qualifies by the facts known, or may once the person states the rest
    UNLIKELY = "unlikely"  # qualifies for nothing whatever the facts not known turn out to be


class PrescreenMade(Payload):
    """Eligibility's pre-screen of a life event by the rule set in force: no identity, only the
    district, the kind and what the person may receive."""

    life_event_id: UUID
    registry: Registry
    kind: LifeEventKind
    district: str
    screened_at: datetime
    outcome: Prescreen
    rule_set_version: str
    groups: list[TargetGroup] = Field(default_factory=list)
    provision_types: list[ProvisionType] = Field(
        default_factory=list, description="what the person may receive, the likeliest first"
    )
    missing: list[str] = Field(
        default_factory=list, description="facts the person would be asked for on accepting"
    )


class OfferMade(Payload):
    """Intake offered a service to a person a life event and its pre-screen point to: what they
    may receive, until when they may accept (on the portal), and how to reach them."""

    offer_id: UUID = Field(description="the life event's id")
    kind: LifeEventKind
    offered_at: datetime
    answer_by: date = Field(description="the last day (Asia/Baku) the offer may be accepted")
    provision_types: list[ProvisionType]
    missing: list[str] = Field(default_factory=list)
    applicant: Applicant


class OfferStatus(StrEnum):
    OFFERED = "offered"  # open: made, or open again after its application was refused
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"  # not answered by its day: a no


class OfferUpdated(Payload):
    """What became of a proactive offer: made, accepted (with the application it made), declined,
    lapsed unanswered, or open again when its application was refused. No identity: the ministry's
    funnel and the operators read it."""

    offer_id: UUID = Field(description="the life event's id")
    kind: LifeEventKind
    status: OfferStatus
    updated_at: datetime
    answer_by: date = Field(description="the last day (Asia/Baku) the offer may be accepted")
    application_id: UUID | None = Field(
        default=None, description="on an accepted offer: the application it made"
    )

    @model_validator(mode="after")
    def _application_when_accepted(self) -> "OfferUpdated":
        if (self.status is OfferStatus.ACCEPTED) != (self.application_id is not None):
            raise ValueError("an accepted offer names its application, and only an accepted one")
        return self
