"""oldest_wait, the `oldest_waited` of a consumer's batch line: seconds from the oldest record's
time to the batch, leaving out what cannot say it (coarse public times, records without one)."""

from aiokafka import ConsumerRecord

from socialsvc_common.consumer import oldest_wait
from socialsvc_common.contract import topics
from socialsvc_common.public_stream import COARSE_TIME_TOPICS

TAKEN = 1_800_000_000.0


def at(topic: str, timestamp_ms: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, 0, 0, timestamp_ms, 0, b"k", b"{}", None, 1, 2, [])


def test_the_oldest_record_counts() -> None:
    records = [
        at(topics.DECISION_MADE.name, 1_799_999_999_500),
        at(topics.APPLICATION_RECEIVED.name, 1_799_999_998_750),
    ]

    assert oldest_wait(records, TAKEN) == 1.25


def test_records_without_a_time_and_coarse_public_ones_are_left_out() -> None:
    coarse = next(iter(COARSE_TIME_TOPICS))
    records = [
        at(topics.DECISION_MADE.name, -1),
        at(coarse, 1_799_996_400_000),
        at(topics.PLACEMENT_MADE.name, 1_799_999_999_900),
    ]

    assert oldest_wait(records, TAKEN) == 0.1
    assert oldest_wait(records[:2], TAKEN) is None
