"""The archive's tables and the history of their changes (socialsvc-db)."""

from pathlib import Path

from sqlmodel import SQLModel

from socialsvc_common.migrations import Schema
from socialsvc_ops.archive.tables import TABLES


class ArchiveSchema(Schema):
    """The archive consumes and publishes through no outbox or inbox: its own tables only."""

    @property
    def models_with_plumbing(self) -> tuple[type[SQLModel], ...]:
        return self.models


SCHEMA = ArchiveSchema("archive", TABLES, Path(__file__).parent / "migrations")
