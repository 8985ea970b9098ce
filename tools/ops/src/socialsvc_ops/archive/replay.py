"""`archive replay`: archived events back onto a topic, exactly as they were (key, value and
headers, the event id included, so a consumer that applied one already skips it)."""

from collections.abc import Sequence

from socialsvc_common.kafka import Producer, Record
from socialsvc_ops.archive.reading import Kept


class ForgottenEvents(ValueError):
    """Some chosen events cannot be opened: their application was forgotten."""


def outgoing(chosen: Sequence[Kept], to: str | None, *, skip_forgotten: bool) -> list[Record]:
    """The records to send, in archive order; refuses forgotten events unless told to skip."""
    forgotten = [k for k in chosen if k.record is None]
    if forgotten and not skip_forgotten:
        applications = sorted({str(k.application_id or "unattributed") for k in forgotten})
        raise ForgottenEvents(
            f"{len(forgotten)} of the {len(chosen)} events cannot be replayed: their data keys "
            f"were deleted when their application was forgotten ({', '.join(applications)}). "
            "Narrow the filter, or pass --skip-forgotten to replay the others."
        )
    return [
        (
            to or k.topic,
            k.record.key,
            k.record.value,
            [(n, v) for n, v in k.record.headers if v is not None],
        )
        for k in chosen
        if k.record is not None
    ]


async def send(producer: Producer, records: list[Record]) -> None:
    await producer.start()
    try:
        await producer.deliver(records)
    finally:
        await producer.stop()
