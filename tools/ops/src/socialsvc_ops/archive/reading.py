"""Reading the archive back: the events a filter picks, opened where their key still exists."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from socialsvc_common.db import transaction
from socialsvc_ops.archive import store
from socialsvc_ops.archive.crypto import Sealed, open_record
from socialsvc_ops.archive.runtime import Archive
from socialsvc_ops.archive.store import Filter
from socialsvc_ops.mask import mask


@dataclass(frozen=True, slots=True)
class Kept:
    """An archived event: its clear fields, and the record when it can still be opened."""

    topic: str
    event_id: str
    partition: int
    offset: int
    event_type: str | None
    occurred_at: datetime
    application_id: UUID | None
    correlation_id: UUID | None
    causation_id: UUID | None
    actor: str | None
    invalid_reason: str | None
    retain_until: datetime
    record: Sealed | None

    @property
    def readable(self) -> bool:
        return self.record is not None

    def summary(self, *, payload: bool = False) -> dict[str, Any]:
        """The clear fields for printing; with `payload`, the value with personal data masked."""
        found: dict[str, Any] = {
            "time": self.occurred_at.isoformat(),
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "type": self.event_type,
            "event_id": self.event_id,
            "application_id": str(self.application_id) if self.application_id else None,
            "actor": self.actor,
            "correlation_id": str(self.correlation_id) if self.correlation_id else None,
            "causation_id": str(self.causation_id) if self.causation_id else None,
            "invalid_reason": self.invalid_reason,
            "retain_until": self.retain_until.isoformat(),
            "readable": self.readable,
        }
        if payload:
            found["payload"] = self.masked_payload()
        return found

    def masked_payload(self) -> Any:
        if self.record is None:
            return None
        try:
            return mask(json.loads(self.record.value or b""))
        except (ValueError, UnicodeDecodeError):
            return f"({len(self.record.value or b'')} bytes, not JSON)"


async def kept(archive: Archive, wanted: Filter) -> list[Kept]:
    """The events `wanted` picks, oldest first."""
    async with transaction(archive.sessions) as session:
        rows = await store.find(session, wanted)
    found = []
    for row in rows:
        record = None
        if row.sealed is not None and row.wrapped_key is not None:
            data_key = archive.master.unwrap(row.wrapped_key, row.key_subject)
            record = open_record(data_key, row.sealed, f"{row.topic}/{row.event_id}")
        found.append(
            Kept(
                row.topic,
                row.event_id,
                row.kafka_partition,
                row.kafka_offset,
                row.event_type,
                row.occurred_at,
                row.application_id,
                row.correlation_id,
                row.causation_id,
                row.actor,
                row.invalid_reason,
                row.retain_until,
                record,
            )
        )
    return found
