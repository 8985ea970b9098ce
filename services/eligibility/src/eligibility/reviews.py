"""A placement's review: the application decided again on the facts held for it now (those of its
latest revision, facts added since included), by the rule set in force today, with the age taken
today. The new decision names the review, so assignment applies it to the placement under review.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals.policy import AppealPolicy
from eligibility.appeals.rules import appeal_by
from eligibility.assessment import age_band_of
from eligibility.rules import decide
from eligibility.ruleset import RuleSet, rule_set_for
from eligibility.simulation import replayed, stored_application
from eligibility.store import DecisionRow, decisions_of, history_row, save_decisions
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import DecisionMade, Outcome, ReviewDue
from socialsvc_common.public_stream import PublicStream
from socialsvc_common.withdrawals import withdrawn_of

NAME = "eligibility"


def review_decision(
    item: Received[ReviewDue],
    stored: DecisionRow,
    rule_set: RuleSet,
    public: PublicStream,
    policy: AppealPolicy,
    *,
    today: date,
    now: datetime,
) -> tuple[dict[str, Any], list[Event]]:
    """The decision a review causes (its row and its events), in pure code. One that ends the
    service says until when it may be appealed, as any refusal does."""
    review = item.payload
    application = stored_application(
        stored.application_id, stored.district, stored.decided_on, stored.facts, stored.decision
    )
    decision = decide(replayed(application), rule_set, today=today)
    made = DecisionMade(
        application_id=stored.application_id,
        decided_at=now,
        district=stored.district,
        person_ref=stored.decision.get("person_ref"),
        review_id=review.review_id,
        appeal_by=appeal_by(now, policy) if decision.outcome is not Outcome.ELIGIBLE else None,
        age_band=age_band_of(stored.facts, today),
        **decision.model_dump(),
    )
    event = new_event(
        topics.DECISION_MADE,
        made,
        producer=NAME,
        application_id=made.application_id,
        cause=item.envelope,
    )
    row = history_row(made, event.envelope.event_id, decided_on=today, facts=stored.facts)
    return row, [event, public.decided(made)]


async def decide_reviews(
    session: AsyncSession,
    batch: Sequence[Received[ReviewDue]],
    in_force: Sequence[RuleSet],
    public: PublicStream,
    policy: AppealPolicy,
    *,
    today: date,
    now: datetime,
) -> tuple[list[Event], int]:
    """Decides again every application under review that has its facts here; the events, and how
    many reviews could not be decided (withdrawn, erased or never decided here): those stay open
    in assignment and escalate when overdue."""
    ids = {item.payload.application_id for item in batch}
    withdrawn = await withdrawn_of(session, ids)
    stored = {row.application_id: row for row in await decisions_of(session, ids)}
    rule_set = rule_set_for(in_force, today)
    decided: dict[Any, tuple[dict[str, Any], list[Event]]] = {}
    undecidable = 0
    for item in batch:
        row = stored.get(item.payload.application_id)
        if (
            row is None
            or not row.facts
            or row.erased_at is not None
            or row.application_id in withdrawn
        ):
            undecidable += 1
            continue
        # One row a application in the upsert: the last review of the batch is the current one.
        decided[row.application_id] = review_decision(
            item, row, rule_set, public, policy, today=today, now=now
        )
    await save_decisions(session, [row for row, _ in decided.values()])
    return [event for _, events in decided.values() for event in events], undecidable
