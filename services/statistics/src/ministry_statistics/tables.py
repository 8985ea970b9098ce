"""The read model: what the figures are counted from, keyed by the pseudonymous application ref
(a life event's rows by the same pseudonym of its id).

No personal data: no name, FIN, birth date, application id, life event id or person reference,
only what the figures need (district, groups, age band, times, providers). Each table is fed by
the events of one family and joined with the others by `ref` when counted, so the order in which
the families arrive does not matter. Months (`YYYY-MM`) are those of Asia/Baku, worked out when a
row is written.
"""

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Column, Table
from sqlmodel import Field, SQLModel

from socialsvc_common.db import UtcDateTime


def _at(*, nullable: bool = True, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class ApplicationRow(SQLModel, table=True):
    """An application taken in (public.application.received.v1): its first revision's time."""

    __tablename__ = "stats_applications"

    ref: UUID = Field(primary_key=True)
    received_at: datetime = Field(sa_column=_at(nullable=False, index=True))
    received_month: str = Field(max_length=7, index=True)
    district: str = Field(index=True)
    region: str = Field(index=True)
    channel: str
    service_requested: str
    revision: int


class DecisionRow(SQLModel, table=True):
    """The latest decision on an application (eligibility.decision.made.v1)."""

    __tablename__ = "stats_decisions"

    ref: UUID = Field(primary_key=True)
    decided_at: datetime = Field(sa_column=_at(nullable=False))
    outcome: str = Field(index=True)
    age_band: str | None = None
    need_level: int | None = None
    rule_set_version: str


class DecisionGroupRow(SQLModel, table=True):
    """The target groups of an application's latest decision, one row each (sensitive included)."""

    __tablename__ = "stats_decision_groups"

    ref: UUID = Field(primary_key=True)
    target_group: str = Field(primary_key=True, index=True)


class RefusalReasonRow(SQLModel, table=True):
    """The refusal reason keys of an application's latest decision, when it refused."""

    __tablename__ = "stats_refusal_reasons"

    ref: UUID = Field(primary_key=True)
    reason: str = Field(primary_key=True)


class PlacementRow(SQLModel, table=True):
    """A placement's life from the assignment events; each event fills the columns it knows."""

    __tablename__ = "stats_placements"

    placement_id: UUID = Field(primary_key=True)
    ref: UUID = Field(index=True)
    provider_id: str = Field(index=True)
    provision_type: str | None = None
    offered_at: datetime | None = Field(default=None, sa_column=_at())
    accepted_at: datetime | None = Field(default=None, sa_column=_at())
    started_at: datetime | None = Field(default=None, sa_column=_at(index=True))
    started_month: str | None = Field(default=None, max_length=7)
    released_at: datetime | None = Field(default=None, sa_column=_at())
    release_reason: str | None = None


class WaitlistRow(SQLModel, table=True):
    """When an application was last put on the waitlist, for which direction."""

    __tablename__ = "stats_waitlist"

    ref: UUID = Field(primary_key=True)
    provision_type: str = Field(index=True)
    waitlisted_at: datetime = Field(sa_column=_at(nullable=False))


class ProviderRow(SQLModel, table=True):
    """A provider's latest state (public.provider.changed.v1)."""

    __tablename__ = "stats_providers"

    provider_id: str = Field(primary_key=True)
    provision_type: str = Field(index=True)
    name: str
    organisation: str | None = None
    capacity: int
    contract_start: date | None = None
    contract_end: date | None = None
    changed_at: datetime = Field(sa_column=_at(nullable=False))


class MessageRow(SQLModel, table=True):
    """A message's outcome: delivered, or finally failed."""

    __tablename__ = "stats_messages"

    notification_id: UUID = Field(primary_key=True)
    ref: UUID = Field(index=True)
    channel: str
    language: str | None = None
    message_kind: str | None = None
    delivered_at: datetime | None = Field(default=None, sa_column=_at())
    failed_at: datetime | None = Field(default=None, sa_column=_at())


class AppealRow(SQLModel, table=True):
    """An appeal: lodged, then upheld or overturned (maybe after its time limit)."""

    __tablename__ = "stats_appeals"

    appeal_id: UUID = Field(primary_key=True)
    ref: UUID = Field(index=True)
    lodged_at: datetime | None = Field(default=None, sa_column=_at())
    respond_by: datetime | None = Field(default=None, sa_column=_at())
    status: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=_at())
    overdue: bool | None = None


class WithdrawalRow(SQLModel, table=True):
    """A withdrawn consent; `for_statistics` when the statistics purpose was among those withdrawn
    (the application is then left out of every figure)."""

    __tablename__ = "stats_withdrawals"

    ref: UUID = Field(primary_key=True)
    withdrawn_at: datetime = Field(sa_column=_at(nullable=False))
    for_statistics: bool


class LifeEventRow(SQLModel, table=True):
    """A state registry's life event as eligibility pre-screened it (eligibility.prescreen.made.v1):
    the first step of the funnel of proactive services. `ref` is the pseudonym of its id."""

    __tablename__ = "stats_life_events"

    ref: UUID = Field(primary_key=True)
    kind: str = Field(index=True)
    district: str = Field(index=True)
    region: str = Field(index=True)
    screened_at: datetime = Field(sa_column=_at(nullable=False, index=True))
    screened_month: str = Field(max_length=7, index=True)
    outcome: str


class LifeEventGroupRow(SQLModel, table=True):
    """The target groups a life event's pre-screen found, one row each."""

    __tablename__ = "stats_life_event_groups"

    ref: UUID = Field(primary_key=True)
    target_group: str = Field(primary_key=True, index=True)


class LifeEventDirectionRow(SQLModel, table=True):
    """What a life event's pre-screen said the person may receive, one row per direction."""

    __tablename__ = "stats_life_event_directions"

    ref: UUID = Field(primary_key=True)
    provision_type: str = Field(primary_key=True, index=True)


class ProactiveOfferRow(SQLModel, table=True):
    """A proactive offer's latest status (intake.offer.updated.v1), keyed by the ref of its life
    event; `application_ref` is the ref of the application an accepted offer made."""

    __tablename__ = "stats_proactive_offers"

    ref: UUID = Field(primary_key=True)
    status: str = Field(index=True)
    offered_at: datetime | None = Field(default=None, sa_column=_at())
    updated_at: datetime = Field(sa_column=_at(nullable=False))
    application_ref: UUID | None = Field(default=None, index=True)


MODELS = (
    ApplicationRow,
    DecisionRow,
    DecisionGroupRow,
    RefusalReasonRow,
    PlacementRow,
    WaitlistRow,
    ProviderRow,
    MessageRow,
    AppealRow,
    WithdrawalRow,
    LifeEventRow,
    LifeEventGroupRow,
    LifeEventDirectionRow,
    ProactiveOfferRow,
)


def table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


APPLICATIONS = table(ApplicationRow)
DECISIONS = table(DecisionRow)
GROUPS = table(DecisionGroupRow)
REASONS = table(RefusalReasonRow)
PLACEMENTS = table(PlacementRow)
WAITLIST = table(WaitlistRow)
PROVIDERS = table(ProviderRow)
MESSAGES = table(MessageRow)
APPEALS = table(AppealRow)
WITHDRAWALS = table(WithdrawalRow)
LIFE_EVENTS = table(LifeEventRow)
LIFE_EVENT_GROUPS = table(LifeEventGroupRow)
LIFE_EVENT_DIRECTIONS = table(LifeEventDirectionRow)
PROACTIVE_OFFERS = table(ProactiveOfferRow)
