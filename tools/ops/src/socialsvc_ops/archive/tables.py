"""The archive's tables: one row per event (what an audit asks in clear, the record sealed) and
one data key per application (wrapped; emptied when the application is forgotten)."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from socialsvc_common.db import UtcDateTime

# The data key of records that name no application (a malformed record without a usable subject).
UNATTRIBUTED = "unattributed"


class ArchivedEvent(SQLModel, table=True):
    """An event as the archive keeps it. Only ids, types, times and the actor are in clear; the
    record (key, value, headers) is in `sealed`, which is null when its application had been
    forgotten before the event arrived."""

    __tablename__ = "archived_events"

    topic: str = Field(primary_key=True, max_length=249)
    # The CloudEvents id; a record without a valid one is known by its position ("p3@1200").
    event_id: str = Field(primary_key=True, max_length=100)
    kafka_partition: int
    kafka_offset: int = Field(sa_column=Column(BigInteger(), nullable=False))
    event_type: str | None = Field(default=None, max_length=200, index=True)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    application_id: UUID | None = Field(default=None, index=True)
    correlation_id: UUID | None = Field(default=None, index=True)
    causation_id: UUID | None = None
    actor: str | None = Field(default=None, max_length=200, index=True)
    key_subject: str = Field(max_length=100, index=True)
    sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary(), nullable=True))
    invalid_reason: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    archived_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    retain_until: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))


class DataKey(SQLModel, table=True):
    """An application's data key, wrapped by the master key. Forgetting the application empties
    `wrapped_key` and keeps the row, so an event that arrives later is not sealed afresh."""

    __tablename__ = "archive_data_keys"

    subject: str = Field(primary_key=True, max_length=100)
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    forgotten_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )


TABLES = (ArchivedEvent, DataKey)
EVENTS = ArchivedEvent.__table__  # type: ignore[attr-defined]
KEYS = DataKey.__table__  # type: ignore[attr-defined]
