"""The edge's token buckets, on a clock the test turns."""

import pytest

from socialsvc_common import edge
from socialsvc_common.edge import RateLimit


def test_a_burst_then_the_rate_then_a_wait_until_a_token_is_back() -> None:
    buckets = edge._Buckets(RateLimit(per_second=4.0, burst=2))
    assert [buckets.wait("a", 0.0), buckets.wait("a", 0.0)] == [0.0, 0.0]
    assert buckets.wait("a", 0.0) == 0.25  # a quarter second until the next token
    assert buckets.wait("b", 0.0) == 0.0  # another client, its own bucket
    assert buckets.wait("a", 0.25) == 0.0
    assert buckets.wait("a", 0.3) == 0.2
    # Quiet long enough, the bucket is full again, never more.
    assert [buckets.wait("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.25]


def test_quiet_clients_are_forgotten_when_there_are_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(edge, "MAX_CLIENTS", 3)
    buckets = edge._Buckets(RateLimit(per_second=1.0, burst=1))
    for n, client in enumerate(["a", "b", "c"]):
        buckets.wait(client, float(n))
    # At 2.5 s "a" and "b" have been quiet for a full bucket's time (1 s); "c" has not.
    buckets.wait("d", 2.5)
    assert set(buckets._state) == {"c", "d"}
