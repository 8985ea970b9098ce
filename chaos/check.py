"""The invariants, checked after the platform drained: nothing accepted is lost, nothing is done
twice, nothing is left unsent or unread, and every bad record is in a dead-letter topic.

Per accepted application: one `application.received` event; one current decision; when eligible
exactly one placement or waiting entry (none otherwise); one delivered message per step
(received, decision, and placement or waitlist). Counts are of applications, with the failing
invariant named in the details.
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from chaos.inject import Injected
from chaos.kafka_view import INPUTS, all_records, header, lag
from chaos.stores import Stores, delivered, processed_at, read_stores, sink_counts
from socialsvc_common.contract import topics
from socialsvc_common.contract.topics import DEAD_LETTERS


@dataclass
class Findings:
    lost: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    duplicated: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def lost_count(self) -> int:
        return len(set().union(*self.lost.values())) if self.lost else 0

    @property
    def duplicated_count(self) -> int:
        return len(set().union(*self.duplicated.values())) if self.duplicated else 0

    def summary(self) -> dict[str, Any]:
        return {
            "lost": {name: len(ids) for name, ids in self.lost.items() if ids},
            "duplicated": {name: len(ids) for name, ids in self.duplicated.items() if ids},
            "examples": {
                name: sorted(ids)[:3]
                for name, ids in [*self.lost.items(), *self.duplicated.items()]
                if ids
            },
            **self.facts,
        }


async def distinct_events(bootstrap: str, topic: str, findings: Findings) -> dict[str, set[str]]:
    """Application id -> the distinct event ids about it on one topic (a re-published copy of
    an event has the same id and is not a duplicate of the work)."""
    found: dict[str, set[str]] = defaultdict(set)
    records = await all_records(bootstrap, [topic])
    findings.facts.setdefault("records read", {})[topic] = len(records)
    for record in records:
        subject, event_id = header(record, "ce_subject"), header(record, "ce_id")
        if subject and event_id:
            found[subject].add(event_id)
    return found


async def check(
    bootstrap: str,
    urls: dict[str, str],
    sinks: Path,
    accepted: set[str],
    injected: list[Injected],
) -> Findings:
    findings = Findings()
    stores = await read_stores(urls)
    received = await distinct_events(bootstrap, topics.APPLICATION_RECEIVED.name, findings)
    decided = await distinct_events(bootstrap, topics.DECISION_MADE.name, findings)
    placed = await distinct_events(bootstrap, topics.PLACEMENT_MADE.name, findings)
    refused = await distinct_events(bootstrap, topics.PLACEMENT_REFUSED.name, findings)
    for app in accepted:
        _count(findings, "intake row", app, int(app in stores.applications))
        _count(findings, "received event", app, len(received.get(app, ())))
        _count(findings, "decision", app, int(app in stores.decisions))
        _count(findings, "decision event", app, len(decided.get(app, ())))
        places = stores.placements.get(app, 0) + stores.waiting.get(app, 0)
        places += len(refused.get(app, ()))
        if stores.decisions.get(app) == "eligible":
            _count(findings, "placement or waitlist", app, places)
        elif places or placed.get(app):
            findings.duplicated["placement without an eligible decision"].add(app)
        if len(placed.get(app, ())) > 1:
            findings.duplicated["placement event"].add(app)
    _check_messages(findings, stores, sinks, accepted)
    findings.facts["unsent outbox rows"] = {s: n for s, n in stores.unsent.items() if n}
    findings.facts["consumer lag"] = {g: n for g, n in (await lag(bootstrap)).items() if n}
    findings.facts["applications not accepted by the load"] = len(stores.applications - accepted)
    await _check_dead_letters(findings, bootstrap, urls, injected)
    return findings


def _count(findings: Findings, name: str, app: str, found: int) -> None:
    if found == 0:
        findings.lost[name].add(app)
    elif found > 1:
        findings.duplicated[name].add(app)


def _step(kind: str) -> str | None:
    if kind == "received":
        return "received"
    if kind.startswith("decision_"):
        return "decision"
    if kind.startswith("placement_"):
        return "placement"
    return None


def _check_messages(findings: Findings, stores: Stores, sinks: Path, accepted: set[str]) -> None:
    counts = sink_counts(sinks)
    got: dict[tuple[str, str], int] = defaultdict(int)
    failed = 0
    for notification, app, kind, status in stores.messages:
        step = _step(kind)
        if step is None:
            continue
        got[(app, step)] += delivered(counts, notification)
        failed += status == "failed"
    for app in accepted:
        steps = ["received", "decision"]
        if stores.placements.get(app) or stores.waiting.get(app):
            steps.append("placement")
        for step in steps:
            _count(findings, f"{step} message", app, got.get((app, step), 0))
    findings.facts["messages failed for good"] = failed


Origin = tuple[str, str, int, int]  # consumer, topic, partition, offset


async def _check_dead_letters(
    findings: Findings, bootstrap: str, urls: dict[str, str], injected: list[Injected]
) -> None:
    letters = await all_records(bootstrap, [t.name for t in DEAD_LETTERS.values()])
    by_origin: dict[Origin, Any] = {}
    reasons: dict[str, int] = defaultdict(int)
    for letter in letters:
        origin = (
            header(letter, "dlq_consumer") or "",
            header(letter, "dlq_original_topic") or "",
            int(header(letter, "dlq_original_partition") or -1),
            int(header(letter, "dlq_original_offset") or -1),
        )
        by_origin[origin] = letter
        reasons[header(letter, "dlq_error_class") or "?"] += 1
    expected = {
        (consumer, bad.topic, bad.partition, bad.offset): bad
        for bad in injected
        for consumer, names in INPUTS.items()
        if bad.topic in names
    }
    missing = [origin for origin in expected if origin not in by_origin]
    delays = [
        (by_origin[origin].timestamp - bad.timestamp_ms) / 1000
        for origin, bad in expected.items()
        if origin in by_origin
    ]
    findings.facts["dead letters"] = len(letters)
    findings.facts["dead-letter reasons"] = dict(reasons)
    findings.facts["good records dead-lettered"] = len(set(by_origin) - set(expected))
    if injected:
        findings.facts["malformed records injected"] = len(injected)
        findings.facts["expected dead letters (record x consumer)"] = len(expected)
        findings.facts["malformed records not dead-lettered"] = len(missing)
        findings.facts["longest bad record to dead letter (s)"] = round(max(delays, default=0), 2)
        held = await _held_up(bootstrap, urls, expected, by_origin)
        findings.facts["longest partition held up by a bad record (s)"] = round(
            max(held, default=0), 2
        )


async def _held_up(
    bootstrap: str,
    urls: dict[str, str],
    expected: dict[Origin, Injected],
    by_origin: dict[Origin, Any],
) -> list[float]:
    records = await all_records(bootstrap, sorted({topic for _, topic, _, _ in expected}))
    before = records_before(expected, records)
    wanted: dict[str, set[UUID]] = defaultdict(set)
    for (consumer, *_), previous in before.items():
        if (event_id := _event_id(previous)) is not None:
            wanted[consumer].add(event_id)
    done = {
        consumer: await processed_at(urls[consumer], consumer, ids)
        for consumer, ids in wanted.items()
    }
    return held_up(expected, by_origin, before, done)


def records_before(expected: dict[Origin, Injected], records: list[Any]) -> dict[Origin, Any]:
    """The record just before each bad one on its partition (none when it was the first)."""
    offsets: dict[tuple[str, int], list[int]] = defaultdict(list)
    at: dict[tuple[str, int, int], Any] = {}
    for record in records:
        offsets[(record.topic, record.partition)].append(record.offset)
        at[(record.topic, record.partition, record.offset)] = record
    for found in offsets.values():
        found.sort()
    before = {}
    for origin in expected:
        _, topic, partition, offset = origin
        found = offsets[(topic, partition)]
        if index := bisect_left(found, offset):
            before[origin] = at[(topic, partition, found[index - 1])]
    return before


def held_up(
    expected: dict[Origin, Injected],
    by_origin: dict[Origin, Any],
    before: dict[Origin, Any],
    done: dict[str, dict[UUID, float]],
) -> list[float]:
    """How long each consumer's partition waited on each bad record: from when the consumer was
    done with the record before it (that event's inbox time, or its own dead letter), or from the
    bad record's arrival if that came later, to the bad record's dead letter. Under load the bad
    record also waits its turn behind good ones; that wait is the backlog's, not a stall."""
    held = []
    for origin, bad in expected.items():
        if origin not in by_origin:
            continue
        consumer, topic, partition, _ = origin
        start = bad.timestamp_ms / 1000
        if (previous := before.get(origin)) is not None:
            letter = by_origin.get((consumer, topic, partition, previous.offset))
            event_id = _event_id(previous)
            if letter is not None:
                start = max(start, letter.timestamp / 1000)
            elif event_id is not None and event_id in done.get(consumer, {}):
                start = max(start, done[consumer][event_id])
        held.append(by_origin[origin].timestamp / 1000 - start)
    return held


def _event_id(record: Any) -> UUID | None:
    text = header(record, "ce_id")
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        return None
