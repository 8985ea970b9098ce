"""Dead letters: list them with their reasons, and replay chosen ones to their original topic.

A replay sends the original key, value and headers (without the `dlq_*` provenance) back to the
topic the consumer failed on; the event keeps its id, so a consumer that did apply it meanwhile
skips it (inbox), and one that did not applies it now. Every replay is recorded on
`ops.deadletter.replayed.v1`, with the operator who made it as the event's actor (`ce_actor`); the
replayed record itself keeps its headers, the actor of its own command included.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from socialsvc_common.apikeys import Role
from socialsvc_common.consumer import DLQ_PREFIX, read_dead_letter
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Envelope, new_event
from socialsvc_common.contract.payloads import DeadLetter, DeadLetterReplayed
from socialsvc_common.contract.topics import DEAD_LETTER_REPLAYED, DEAD_LETTERS
from socialsvc_common.kafka import PRODUCER_REQUEST_TIMEOUT_MS
from socialsvc_common.logs import redact_text
from socialsvc_ops.login import kafka_login
from socialsvc_ops.records import Seen, onlooker, partitions, read_range, start_offsets

Position = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class Letter:
    seen: Seen
    reason: DeadLetter | None
    replays: tuple[DeadLetterReplayed, ...] = ()

    @property
    def position(self) -> Position:
        return (self.seen.topic, self.seen.partition, self.seen.offset)

    def as_dict(self) -> dict[str, Any]:
        reason = self.reason.model_dump(mode="json") if self.reason else {"error_class": "unknown"}
        reason["error_message"] = redact_text(str(reason.get("error_message", "")))
        return {
            "topic": self.seen.topic,
            "partition": self.seen.partition,
            "offset": self.seen.offset,
            "application_id": self.seen.application_id,
            "type": self.seen.event_type,
            **reason,
            "replayed": [r.replayed_at.isoformat() for r in self.replays],
        }


@dataclass(frozen=True, slots=True)
class Choice:
    """Which dead letters: exact positions, or any that match every filter given."""

    positions: frozenset[Position] = frozenset()
    consumer: str | None = None
    original_topic: str | None = None
    error_class: str | None = None
    application_id: str | None = None
    include_replayed: bool = False

    def picks(self, letter: Letter) -> bool:
        if self.positions:
            return letter.position in self.positions
        reason = letter.reason
        return (
            (self.include_replayed or not letter.replays)
            and (self.consumer is None or (reason is not None and reason.consumer == self.consumer))
            and (
                self.original_topic is None
                or (reason and reason.original_topic) == self.original_topic
            )
            and (self.error_class is None or (reason and reason.error_class) == self.error_class)
            and (self.application_id is None or letter.seen.application_id == self.application_id)
        )


def reason_of(seen: Seen) -> DeadLetter | None:
    try:
        return read_dead_letter([(k, v) for k, v in seen.headers if v is not None])
    except (ValidationError, UnicodeDecodeError):
        return None


async def letters(
    bootstrap: str, consumers: list[str] | None = None, *, since: datetime | None = None
) -> list[Letter]:
    """Every dead letter (of the chosen consumers), oldest first, with the replays made of it."""
    names = [DEAD_LETTERS[c].name for c in consumers or DEAD_LETTERS]
    tps = await partitions(bootstrap, [*names, DEAD_LETTER_REPLAYED.name])
    consumer = onlooker(bootstrap)
    await consumer.start()
    try:
        records = await read_range(consumer, await start_offsets(consumer, tps, since))
    finally:
        await consumer.stop()
    replays: dict[Position, list[DeadLetterReplayed]] = {}
    for seen in records:
        if seen.topic != DEAD_LETTER_REPLAYED.name:
            continue
        try:
            done = DeadLetterReplayed.model_validate_json(seen.value or b"")
        except ValidationError:
            continue  # a record that names no letter cannot mark one as replayed
        where = (done.dead_letter_topic, done.dead_letter_partition, done.dead_letter_offset)
        replays.setdefault(where, []).append(done)
    found = [
        Letter(s, reason_of(s), tuple(replays.get((s.topic, s.partition, s.offset), ())))
        for s in records
        if s.topic != DEAD_LETTER_REPLAYED.name
    ]
    return sorted(found, key=lambda letter: (letter.seen.timestamp_ms, letter.position))


class NotReplayable(ValueError):
    """A dead letter that cannot go back as it is; the message says why."""


def operator() -> Actor:
    """The operator running the tool: SOCIALSVC_OPERATOR, else USER; ValueError for a name that
    cannot be an actor's."""
    return Actor.running(Role.OPERATOR)


async def replay(bootstrap: str, chosen: list[Letter], operator: Actor) -> list[DeadLetterReplayed]:
    """Sends each letter back to its original topic and records the replay; returns the records."""
    ready: list[tuple[Letter, DeadLetter, Envelope]] = []
    for letter in chosen:
        envelope = letter.seen.envelope
        if letter.reason is None or envelope is None:
            raise NotReplayable(
                f"{letter.position} has no valid dlq_* or CloudEvents headers: replaying it would "
                "only dead-letter it again"
            )
        ready.append((letter, letter.reason, envelope))
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="socialsvc-ops",
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=PRODUCER_REQUEST_TIMEOUT_MS,
        **kafka_login(),
    )
    await producer.start()
    done: list[DeadLetterReplayed] = []
    try:
        for letter, reason, envelope in ready:
            done.append(await _replay_one(producer, letter.seen, reason, envelope, operator))
    finally:
        await producer.stop()
    return done


async def _replay_one(
    producer: AIOKafkaProducer, seen: Seen, reason: DeadLetter, envelope: Envelope, operator: Actor
) -> DeadLetterReplayed:
    sent = await producer.send_and_wait(
        reason.original_topic,
        value=seen.value,
        key=seen.key,
        headers=[(k, v) for k, v in seen.headers if not k.startswith(DLQ_PREFIX)],
    )
    record = DeadLetterReplayed(
        consumer=reason.consumer,
        dead_letter_topic=seen.topic,
        dead_letter_partition=seen.partition,
        dead_letter_offset=seen.offset,
        original_topic=reason.original_topic,
        original_partition=reason.original_partition,
        original_offset=reason.original_offset,
        error_class=reason.error_class,
        replayed_partition=sent.partition,
        replayed_offset=sent.offset,
        replayed_at=datetime.now(UTC),
        operator=operator.name,
    )
    event = new_event(
        DEAD_LETTER_REPLAYED,
        record,
        producer="ops",
        application_id=envelope.application_id,
        cause=envelope,
        actor=operator,
    )
    await producer.send_and_wait(
        DEAD_LETTER_REPLAYED.name,
        value=event.value(),
        key=event.key,
        headers=event.envelope.to_headers(),
    )
    return record
