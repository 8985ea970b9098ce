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


def test_the_least_recently_seen_are_forgotten_beyond_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(edge, "MAX_CLIENTS", 3)
    buckets = edge._Buckets(RateLimit(per_second=1.0, burst=1))
    for n, client in enumerate(["a", "b", "c"]):
        buckets.wait(client, float(n))
    buckets.wait("a", 2.5)  # "a" seen again: now "b" is the least recent
    buckets.wait("d", 2.6)
    assert list(buckets._state) == ["c", "a", "d"]
    # A forgotten client starts again with a full bucket.
    assert buckets.wait("b", 2.7) == 0.0


def test_a_route_without_a_limit_names_no_client() -> None:
    limit = RateLimit(per_second=1.0, burst=1, unlimited_paths=frozenset({"/receipts"}))
    scope = {"type": "http", "headers": [], "client": ("10.0.0.7", 5123)}
    assert edge._client({**scope, "path": "/receipts"}, limit) is None
    assert edge._client({**scope, "path": "/cases"}, limit) == "address:10.0.0.7"
