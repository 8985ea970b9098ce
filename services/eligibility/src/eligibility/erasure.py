"""Eligibility's part in a person's erasure and subject access: decisions without the facts,
appeals without what they said."""

from collections.abc import Sequence
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals.store import anonymise_appeals, appeals_of
from eligibility.prescreens import erase_prescreens
from eligibility.store import anonymise_decisions, decisions_of
from socialsvc_common.consumer import Received
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.erasure import SubjectErased, anonymised_decision
from socialsvc_common.subject_access import Holding


async def on_subjects_erased(
    session: AsyncSession, batch: Sequence[Received[SubjectErased]]
) -> list[Event]:
    """Drops the facts of every decision the erased applications had, and what their appeals
    said (once: a repeat finds them gone), and the references of the life events erased with
    them; the outcomes stay for the statistics."""
    erased = {item.payload.application_id: item.payload.erased_at for item in batch}
    rows = await decisions_of(session, erased)
    anonymous = {
        row.id: anonymised_decision(row.decision)
        for row in rows
        if row.erased_at is None and row.id is not None
    }
    if anonymous:
        await anonymise_decisions(session, anonymous, max(erased.values()))
    await anonymise_appeals(session, erased)
    await erase_prescreens(session, erased)
    return []


async def holdings(session: AsyncSession, ids: Sequence[UUID]) -> list[Holding]:
    appeals = [
        Holding(
            category="appeal",
            application_id=row.application_id,
            purpose="decide_eligibility",
            data=row.model_dump(mode="json", exclude={"application_id"}),
        )
        for row in await appeals_of(session, ids)
    ]
    return appeals + [
        Holding(
            category="decision",
            application_id=row.application_id,
            purpose="decide_eligibility",
            data={
                "outcome": row.outcome,
                "rule_set_version": row.rule_set_version,
                "district": row.district,
                "decided_at": row.decided_at.isoformat(),
                "facts": row.facts,
                "rules": row.decision.get("rules", []),
                "appeal_id": None if row.appeal_id is None else str(row.appeal_id),
            },
        )
        for row in await decisions_of(session, ids)
    ]
