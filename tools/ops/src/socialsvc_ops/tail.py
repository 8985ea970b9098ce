"""Following topics live, with filters on the event type, the application and the district."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

from socialsvc_common.geography import UnknownUnit, load_geography
from socialsvc_common.kafka import assigned_ends
from socialsvc_ops.records import Seen, follow, onlooker, partitions, start_offsets


def _district_name(text: str) -> str:
    try:
        return load_geography().canonical(text).casefold()
    except UnknownUnit:
        return text.casefold()


@dataclass(frozen=True, slots=True)
class TailFilter:
    """Which records to show; an empty filter shows all of them."""

    types: frozenset[str] = field(default_factory=frozenset)
    application_id: str | None = None
    district: str | None = None

    def matches(self, seen: Seen) -> bool:
        # A type may be given as the CloudEvents type or as the topic name.
        if self.types and not ({seen.event_type, seen.topic} & self.types):
            return False
        if self.application_id and seen.application_id != self.application_id:
            return False
        if self.district:
            found = seen.district()
            return found is not None and _district_name(found) == _district_name(self.district)
        return True


async def tail(
    bootstrap: str,
    topics: list[str],
    wanted: TailFilter,
    *,
    since: datetime | None,
    ready: Callable[[], None] = lambda: None,
) -> AsyncIterator[Seen]:
    """The matching records of `topics`, from `since` (or from now on), as they arrive; `ready`
    is called once the starting positions are taken, so nothing published after it is missed."""
    tps = await partitions(bootstrap, topics)
    consumer = onlooker(bootstrap)
    await consumer.start()
    try:
        starts = (
            await start_offsets(consumer, tps, since)
            if since is not None
            else await assigned_ends(consumer, tps)
        )
        ready()
        async for seen in follow(consumer, starts):
            if wanted.matches(seen):
                yield seen
    finally:
        await consumer.stop()
