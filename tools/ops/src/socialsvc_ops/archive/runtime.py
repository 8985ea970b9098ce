"""The archive's composition root: settings, database, master key and policy, built once."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.db import make_engine, session_factory
from socialsvc_common.migrations import require_head
from socialsvc_ops.archive.crypto import MasterKey
from socialsvc_ops.archive.retention import RetentionPolicy, load_policy
from socialsvc_ops.archive.schema import SCHEMA
from socialsvc_ops.archive.settings import ArchiveSettings


@dataclass(frozen=True)
class Archive:
    settings: ArchiveSettings
    sessions: async_sessionmaker[AsyncSession]
    master: MasterKey
    policy: RetentionPolicy


@asynccontextmanager
async def opened(settings: ArchiveSettings | None = None) -> AsyncIterator[Archive]:
    """The archive, on a database at the head of its migrations (refused otherwise, naming
    `socialsvc-db upgrade archive`); the policy is checked first, so a bad file stops at once."""
    settings = settings or ArchiveSettings()
    policy = load_policy(settings.retention_policy)
    engine = make_engine(settings.database, pool_size=2)
    try:
        await require_head(engine, SCHEMA)
        yield Archive(
            settings, session_factory(engine), MasterKey(settings.master_key_bytes), policy
        )
    finally:
        await engine.dispose()
