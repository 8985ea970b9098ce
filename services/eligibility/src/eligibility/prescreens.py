"""Life events from the state registries, pre-screened once each: the table that remembers them
(no identity: the district, the kind and the outcome) and the handler's pure core."""

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, Table, UniqueConstraint, update
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.prescreen import prescreen
from eligibility.ruleset import RuleSet
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import LifeEventRecorded, PrescreenMade
from socialsvc_common.db import UtcDateTime, among, insert_new, run


class PrescreenRow(SQLModel, table=True):
    __tablename__ = "prescreens"
    # A registry may send the same record again (under another event id): screened once.
    __table_args__ = (UniqueConstraint("reported_by", "reference", name="ux_prescreens_reference"),)

    life_event_id: UUID = Field(primary_key=True)
    reported_by: str  # the registry
    reference: str | None = None  # None, with the day, once the person is erased
    kind: str = Field(index=True)
    occurred_on: date | None = None
    district: str = Field(index=True)
    outcome: str = Field(index=True)
    rule_set_version: str
    provision_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    screened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


PRESCREENS: Table = PrescreenRow.__table__  # type: ignore[attr-defined]


def screened(
    item: Received[LifeEventRecorded], rule_set: RuleSet, today: date, now: datetime
) -> tuple[dict[str, Any], Event]:
    """The row and the event of one life event's pre-screen."""
    event = item.payload
    life_event_id = event.life_event_id
    result = prescreen(event, rule_set, today)
    made = PrescreenMade(
        life_event_id=life_event_id,
        registry=event.registry,
        kind=event.kind,
        district=event.person.district,
        screened_at=now,
        outcome=result.outcome,
        rule_set_version=result.rule_set_version,
        groups=list(result.groups),
        provision_types=list(result.provision_types),
        missing=[fact.value for fact in result.missing],
    )
    row = {
        "life_event_id": life_event_id,
        "reported_by": event.registry.value,
        "reference": event.reference,
        "kind": event.kind.value,
        "occurred_on": event.occurred_on,
        "district": event.person.district,
        "outcome": result.outcome.value,
        "rule_set_version": result.rule_set_version,
        "provision_types": [kind.value for kind in result.provision_types],
        "screened_at": now,
    }
    published = new_event(
        topics.PRESCREEN_MADE,
        made,
        producer="eligibility",
        application_id=life_event_id,
        cause=item.envelope,
        at=now,
    )
    return row, published


async def save_new(
    session: AsyncSession, screens: Sequence[tuple[dict[str, Any], Event]]
) -> list[Event]:
    """Keeps the pre-screens of life events not screened before, in one statement, and returns
    their events; a registry's record seen again is screened no more."""
    first: dict[Any, tuple[dict[str, Any], Event]] = {}
    for row, event in screens:
        first.setdefault(row["life_event_id"], (row, event))
    kept = await insert_new(
        session, PRESCREENS, [row for row, _ in first.values()], PRESCREENS.c.life_event_id
    )
    return [event for life_event_id, (_, event) in first.items() if life_event_id in kept]


async def erase_prescreens(session: AsyncSession, life_event_ids: Collection[UUID]) -> None:
    """Forgets the registry's reference and the day of the erased people's life events; what
    the statistics count (kind, district, outcome) stays. The id stays too: a copy of the
    record sent again is still screened once."""
    if life_event_ids:
        await run(
            session,
            update(PRESCREENS)
            .where(among(PRESCREENS.c.life_event_id, list(life_event_ids)))
            .values(reference=None, occurred_on=None),
        )
