"""An application whose consent was withdrawn: off the waitlist, its place given up (and passed to
the next person waiting), and placed no more (`placing` skips it)."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import Registry, release
from assignment.store import active_placements_of, leave_waitlist
from socialsvc_common.consumer import Received
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.payloads import ConsentWithdrawn, ReleaseReason
from socialsvc_common.withdrawals import record_withdrawals


async def withdraw_all(
    session: AsyncSession, registry: Registry, batch: Sequence[Received[ConsentWithdrawn]]
) -> list[Event]:
    """Records the batch's withdrawals, takes those applications off the waitlist and releases
    every place they hold, each offer or placement with the reason consent_withdrawn."""
    withdrawn = await record_withdrawals(session, batch)
    if not withdrawn:
        return []
    await leave_waitlist(session, withdrawn)
    events: list[Event] = []
    # One by one: a release locks its provider's ledger and promotes the next person there.
    # Withdrawals are rare, and a person holds one or two places at most.
    for placement_id in await active_placements_of(session, withdrawn):
        events += await release(
            session, registry, placement_id, ReleaseReason.CONSENT_WITHDRAWN.value
        )
    return events
