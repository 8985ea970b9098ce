"""The invariants, checked after the platform drained: nothing accepted is lost, nothing is done
twice, nothing is left unsent or unread, and every bad record is in a dead-letter topic without
holding its partition up for more than five seconds.

Per accepted application: one `application.received` event; one current decision; when eligible
exactly one placement or waiting entry (none otherwise); one delivered message per step
(received, decision, and placement or waitlist). Counts are of applications, with the failing
invariant named in the details.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from chaos.inject import Injected
from chaos.kafka_view import INPUTS, Broker, all_records, header, lag
from chaos.stores import Stores, delivered, read_stores, sink_counts
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


async def distinct_events(broker: Broker, topic: str, findings: Findings) -> dict[str, set[str]]:
    """Application id -> the distinct event ids about it on one topic (a re-published copy of
    an event has the same id and is not a duplicate of the work)."""
    found: dict[str, set[str]] = defaultdict(set)
    records = await all_records(broker, [topic])
    findings.facts.setdefault("records read", {})[topic] = len(records)
    for record in records:
        subject, event_id = header(record, "ce_subject"), header(record, "ce_id")
        if subject and event_id:
            found[subject].add(event_id)
    return found


async def check(
    broker: Broker,
    urls: dict[str, str],
    sinks: Path,
    accepted: set[str],
    *,
    injected: list[Injected],
    expositions: list[str],
) -> Findings:
    """`expositions`: the services' /metrics, read before they stopped."""
    findings = Findings()
    stores = await read_stores(urls)
    received = await distinct_events(broker, topics.APPLICATION_RECEIVED.name, findings)
    decided = await distinct_events(broker, topics.DECISION_MADE.name, findings)
    placed = await distinct_events(broker, topics.PLACEMENT_MADE.name, findings)
    refused = await distinct_events(broker, topics.PLACEMENT_REFUSED.name, findings)
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
    findings.facts["consumer lag"] = {g: n for g, n in (await lag(broker)).items() if n}
    findings.facts["applications not accepted by the load"] = len(stores.applications - accepted)
    await _check_dead_letters(findings, broker, injected, expositions)
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
HOLD_FAMILY = "socialsvc_dead_letter_hold_seconds"
# The bound; one of the histogram's bucket bounds, so counted exactly.
STALL_BOUND_SECONDS = 5.0
STALLED = f"bad records that held their partition up over {STALL_BOUND_SECONDS:g} s"


async def _check_dead_letters(
    findings: Findings, broker: Broker, injected: list[Injected], expositions: list[str]
) -> None:
    letters = await all_records(broker, [t.name for t in DEAD_LETTERS.values()])
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
        findings.facts |= hold_facts(hold_buckets(expositions))


async def scrape(urls: dict[str, str], key: str) -> tuple[list[str], list[str]]:
    """The /metrics of each named process, read with a monitor `key`, and the names of those
    that did not answer."""
    texts, unread = [], []
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        for name, url in urls.items():
            try:
                response = await client.get(url + "/metrics")
                response.raise_for_status()
            except httpx.HTTPError:
                unread.append(name)
            else:
                texts.append(response.text)
    return texts, unread


def hold_buckets(expositions: Iterable[str]) -> dict[float, float]:
    """The consumers' own timing of the records they dead-lettered (from a record's batch
    reaching the handler to the dead letter's acknowledgement, the time nothing behind it on its
    partition could move): cumulative counts by upper bound, summed over services and topics.

    The end-to-end time from publication to dead letter cannot tell this from the wait behind
    good records of every topic a consumer reads, which under load is the backlog's, not a
    stall."""
    buckets: dict[float, float] = defaultdict(float)
    for text in expositions:
        for family in text_string_to_metric_families(text):
            if family.name != HOLD_FAMILY:
                continue
            for sample in family.samples:
                if sample.name == HOLD_FAMILY + "_bucket":
                    buckets[float(sample.labels["le"])] += sample.value
    return dict(buckets)


def hold_facts(buckets: dict[float, float]) -> dict[str, Any]:
    total = buckets.get(math.inf, 0.0)
    longest = min((bound for bound, count in buckets.items() if count >= total), default=0.0)
    finite = max((bound for bound in buckets if bound != math.inf), default=0.0)
    return {
        "dead letters timed by their consumers": int(total),
        "longest a bad record held its partition up (s, at most)": (
            longest if longest != math.inf else f"over {finite:g}"
        ),
        STALLED: int(total - buckets.get(STALL_BOUND_SECONDS, 0.0)),
    }
