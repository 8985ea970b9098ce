"""Data keys per application: made on first sight, unwrapped for a batch, destroyed to forget.

`forget_applications` is what subject erasure calls: after it, the applications' archived records
cannot be opened by anyone, while their ids, types, times and actors stay for the audit.
"""

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.db import transaction
from socialsvc_ops.archive import store
from socialsvc_ops.archive.crypto import MasterKey

# A subject's key in clear, or None: the subject was forgotten and nothing of it may be sealed.
ClearKeys = dict[str, bytes | None]


def unwrap_all(master: MasterKey, wrapped: dict[str, bytes | None]) -> ClearKeys:
    return {s: None if w is None else master.unwrap(w, s) for s, w in wrapped.items()}


async def keys_for(
    session: AsyncSession, master: MasterKey, subjects: Collection[str], now: datetime
) -> ClearKeys:
    """Every subject's data key, making the missing ones (three statements at most)."""
    wrapped = await store.data_keys(session, subjects)
    missing = set(subjects) - wrapped.keys()
    if not missing:
        return unwrap_all(master, wrapped)
    made = {subject: master.new_data_key() for subject in missing}
    rows = [
        {"subject": s, "wrapped_key": master.wrap(key, s), "created_at": now}
        for s, key in made.items()
    ]
    added = await store.add_data_keys(session, rows)
    found = unwrap_all(master, wrapped) | {s: made[s] for s in added}
    # Another archive process made these first: theirs are the keys.
    raced = missing - added
    return found | unwrap_all(master, await store.data_keys(session, raced))


async def forget_applications(
    session: AsyncSession, application_ids: Iterable[UUID], at: datetime | None = None
) -> int:
    """Crypto-shreds the applications' archived records, inside the caller's transaction: their
    data keys are destroyed, and events of theirs that arrive later are kept unsealed (metadata
    only). Returns how many keys were destroyed; forgetting twice is harmless."""
    subjects = {str(application_id) for application_id in application_ids}
    return await store.forget(session, subjects, at or datetime.now(UTC))


async def forget(
    sessions: async_sessionmaker[AsyncSession], application_ids: Iterable[UUID]
) -> int:
    """`forget_applications` in a transaction of its own."""
    async with transaction(sessions) as session:
        return await forget_applications(session, application_ids)
