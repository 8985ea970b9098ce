"""Eligibility's part in a person's erasure and subject access: decisions without the facts."""

from collections.abc import Sequence
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.store import anonymise_decisions, decisions_of
from socialsvc_common.consumer import Received
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.erasure import SubjectErased, anonymised_decision
from socialsvc_common.subject_access import Holding


async def on_subjects_erased(
    session: AsyncSession, batch: Sequence[Received[SubjectErased]]
) -> list[Event]:
    """Drops the facts of the erased applications' decisions (once: a repeat finds them gone);
    the outcomes stay for the statistics."""
    erased = {item.payload.application_id: item.payload.erased_at for item in batch}
    rows = await decisions_of(session, erased)
    anonymous = {
        row.application_id: anonymised_decision(row.decision)
        for row in rows
        if row.erased_at is None
    }
    if anonymous:
        await anonymise_decisions(session, anonymous, max(erased.values()))
    return []


async def holdings(session: AsyncSession, ids: Sequence[UUID]) -> list[Holding]:
    return [
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
            },
        )
        for row in await decisions_of(session, ids)
    ]
