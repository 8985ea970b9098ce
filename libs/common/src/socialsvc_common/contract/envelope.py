"""The event envelope, as CloudEvents Kafka-binding headers (binary mode) beside a JSON value.

Any partner client can read `ce_id`, `ce_type`, `ce_source`, `ce_time`, `ce_subject` (the
application id) and the extensions `ce_correlationid`, `ce_causationid`, `ce_schemaversion` and,
on an event a command from outside caused, `ce_actor` (who gave it, `<role>:<name>`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.topics import Topic

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
SOURCE_PREFIX = "/socialsvc/"

Headers = list[tuple[str, bytes]]


class InvalidEnvelope(ValueError):
    """A record's headers do not make a valid envelope; the message names what is wrong."""


class Envelope(BaseModel):
    """Who said what, when, about which application, and because of which earlier event."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    # CloudEvents requires type and source to be non-empty; an empty one names nothing to act on.
    type: str = Field(min_length=1, max_length=200)
    schema_version: str = Field(min_length=1, max_length=20)
    time: datetime
    source: str = Field(min_length=1, max_length=200)
    application_id: UUID
    correlation_id: UUID
    causation_id: UUID | None = None
    actor: Actor | None = None

    def to_headers(self) -> Headers:
        """The CloudEvents Kafka-binding headers of this envelope."""
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": str(self.event_id),
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "ce_subject": str(self.application_id),
            "ce_correlationid": str(self.correlation_id),
            "ce_schemaversion": self.schema_version,
            "content-type": CONTENT_TYPE,
        }
        if self.causation_id is not None:
            headers["ce_causationid"] = str(self.causation_id)
        if self.actor is not None:
            headers["ce_actor"] = str(self.actor)
        return [(key, value.encode()) for key, value in headers.items()]

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes]) -> "Envelope":
        """Reads an envelope from record headers; raises InvalidEnvelope naming the bad header."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        found: dict[str, str] = {}
        for key, value in pairs:
            if not key.startswith("ce_"):
                continue
            if value is None:
                raise InvalidEnvelope(f"header {key} has no value")
            try:
                found[key] = value.decode()
            except UnicodeDecodeError as error:
                raise InvalidEnvelope(f"header {key} is not UTF-8: {error.reason}") from error
        missing = [
            name
            for name in ("ce_id", "ce_type", "ce_source", "ce_time", "ce_subject")
            if name not in found
        ]
        if missing:
            raise InvalidEnvelope(f"missing CloudEvents headers: {', '.join(missing)}")
        actor = _actor(found.get("ce_actor"))
        try:
            return cls(
                event_id=found["ce_id"],
                type=found["ce_type"],
                schema_version=found.get("ce_schemaversion", "1.0"),
                time=found["ce_time"],
                source=found["ce_source"],
                application_id=found["ce_subject"],
                correlation_id=found.get("ce_correlationid", found["ce_id"]),
                causation_id=found.get("ce_causationid"),
                actor=actor,
            )
        except ValidationError as error:
            fields = ", ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise InvalidEnvelope(f"invalid CloudEvents headers: {fields}") from error


def _actor(header: str | None) -> Actor | None:
    if header is None:
        return None
    try:
        return Actor.parse(header)
    except ValueError as error:
        raise InvalidEnvelope(f"header ce_actor is not valid: {error}") from error


def event_type(topic: Topic) -> str:
    """The CloudEvents type of a topic's events: its name without the version suffix."""
    return topic.name.rsplit(".v", 1)[0]


@dataclass(frozen=True, slots=True)
class Event:
    """An event ready for the outbox: where it goes, its key, its envelope and its payload."""

    topic: Topic
    envelope: Envelope
    payload: BaseModel

    @property
    def key(self) -> bytes:
        return str(self.envelope.application_id).encode()

    def value(self) -> bytes:
        return self.payload.model_dump_json().encode()


def new_event(
    topic: Topic,
    payload: BaseModel,
    *,
    producer: str,
    application_id: UUID,
    cause: Envelope | None = None,
    at: datetime | None = None,
    actor: Actor | None = None,
) -> Event:
    """A new event on `topic`; with a cause it joins the cause's correlation and names it. The
    actor is given only by a command's own event: it never passes from a cause to its effects."""
    if not isinstance(payload, topic.payload):
        raise TypeError(
            f"{topic.name} carries {topic.payload.__name__}, not {type(payload).__name__}"
        )
    event_id = uuid4()
    envelope = Envelope(
        event_id=event_id,
        type=event_type(topic),
        schema_version=f"{topic.major_version}.0",
        time=at or datetime.now(UTC),
        source=SOURCE_PREFIX + producer,
        application_id=application_id,
        correlation_id=cause.correlation_id if cause else event_id,
        causation_id=cause.event_id if cause else None,
        actor=actor,
    )
    return Event(topic, envelope, payload)
