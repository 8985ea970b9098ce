"""What the event flow says, kept up to date record by record: where each application stands, how
fast events arrive, and which dead letters there are. Pure: fed records, asked for figures."""

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from socialsvc_common.contract import topics
from socialsvc_common.public_stream import COARSE_TIME_TOPICS
from socialsvc_ops.deadletters import Letter, reason_of
from socialsvc_ops.records import Seen

RATE_WINDOW_MS = 60_000
RECENT_LETTERS = 10

# The stage an application is in after each kind of event; notifications and dead letters say
# nothing new about where it stands.
STAGE_OF_TOPIC = {
    topics.EGOV_APPLICATION_SUBMITTED.name: "submitted",
    topics.APPLICATION_RECEIVED.name: "received",
    topics.PLACEMENT_MADE.name: "placement offered",
    topics.PLACEMENT_WAITLISTED.name: "waitlisted",
    topics.PLACEMENT_REFUSED.name: "placement refused",
    topics.PLACEMENT_RELEASED.name: "place released",
    topics.CONSENT_WITHDRAWN.name: "consent withdrawn",
    topics.REVIEW_DUE.name: "under review",
    topics.REVIEW_OVERDUE.name: "review overdue",
    topics.APPLICATION_EXPIRED.name: "expired",
}
DEAD_LETTER_TOPICS = {t.name for t in topics.DEAD_LETTERS.values()}


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def stage_of(seen: Seen) -> str | None:
    payload = seen.payload() or {}
    if seen.topic == topics.DECISION_MADE.name:
        if payload.get("review_id"):
            # Decided again for a review: where it stands next is the review's conclusion.
            return "under review"
        return f"decided: {str(payload.get('outcome', 'unknown')).replace('_', ' ')}"
    if seen.topic == topics.REVIEW_CONCLUDED.name:
        return f"review: {payload.get('outcome', 'concluded')}"
    if seen.topic == topics.PLACEMENT_UPDATED.name:
        return f"placement {payload.get('status', 'updated')}"
    return STAGE_OF_TOPIC.get(seen.topic)


@dataclass
class Flow:
    stages: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    arrivals: deque[tuple[int, str]] = field(default_factory=deque)
    letters: Counter[str] = field(default_factory=Counter)
    recent_letters: deque[Letter] = field(default_factory=lambda: deque(maxlen=RECENT_LETTERS))
    records: int = 0

    def add(self, seen: Seen) -> None:
        self.records += 1
        # A public application record's time is cut to the hour, so it cannot be counted in a
        # minute; the private event it is the twin of is.
        coarse = seen.topic in COARSE_TIME_TOPICS
        if not coarse and seen.timestamp_ms >= _now_ms() - RATE_WINDOW_MS:
            self.arrivals.append((seen.timestamp_ms, seen.event_type))
        if seen.topic in DEAD_LETTER_TOPICS:
            self.letters[seen.topic.split(".", 1)[0]] += 1
            self.recent_letters.append(Letter(seen, reason_of(seen)))
            return
        stage = stage_of(seen)
        application = seen.application_id
        if stage is None or application is None:
            return
        known = self.stages.get(application)
        if known is None or known[0] <= seen.time:
            self.stages[application] = (seen.time, stage)

    def stage_counts(self) -> dict[str, int]:
        return dict(Counter(stage for _, stage in self.stages.values()).most_common())

    def rates(self, now_ms: int | None = None) -> dict[str, Any]:
        """Events per minute over the last minute, in all and by type."""
        now = now_ms if now_ms is not None else _now_ms()
        # Partitions interleave, so arrivals are not in time order: filter, do not pop.
        self.arrivals = deque(a for a in self.arrivals if a[0] >= now - RATE_WINDOW_MS)
        recent = [kind for at, kind in self.arrivals if at <= now]
        return {"per_minute": len(recent), "by_type": dict(Counter(recent).most_common())}

    def dead_letters(self) -> dict[str, Any]:
        recent = []
        for letter in reversed(self.recent_letters):
            item = letter.as_dict()
            recent.append(
                {
                    k: item.get(k)
                    for k in (
                        "consumer",
                        "original_topic",
                        "error_class",
                        "error_message",
                        "failed_at",
                        "application_id",
                        "topic",
                        "partition",
                        "offset",
                    )
                }
            )
        return {
            "total": sum(self.letters.values()),
            "by_consumer": dict(self.letters),
            "recent": recent,
        }
