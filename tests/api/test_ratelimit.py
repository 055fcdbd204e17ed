"""Token buckets: a burst passes, the next request is told how long to wait."""

from chaintrail.api.ratelimit import TokenBuckets


def test_burst_then_refusal_with_a_wait_time():
    buckets = TokenBuckets(rate=5, burst=3)
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = buckets.take("k")
    assert 0 < wait <= 0.2 + 1e-9


def test_keys_have_separate_buckets():
    buckets = TokenBuckets(rate=1, burst=1)
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0
    assert buckets.take("a") > 0
