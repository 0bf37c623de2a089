"""Shared counters (rate-limit windows) on the embedded file cache: atomic, expiring, cleared."""

import threading

import pytest
from django.core.cache import cache

from brokers import ratelimit
from brokers.base import RateLimit, RateLimited
from sigmatrader import counters


def test_concurrent_hits_are_all_counted():
    def hammer():
        for _ in range(200):
            counters.hit("test:counter:concurrent", 60)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.hit("test:counter:concurrent", 60) == 8 * 200 + 1


def test_a_counter_starts_again_after_its_lifetime(monkeypatch):
    import sigmatrader.cache as module

    if not hasattr(cache, "hit"):
        pytest.skip("Redis expires its own keys")

    now = [1_000_000.0]
    monkeypatch.setattr(module.time, "time", lambda: now[0])
    assert [counters.hit("test:counter:ttl", 5) for _ in range(3)] == [1, 2, 3]
    now[0] += 5.5
    assert counters.hit("test:counter:ttl", 5) == 1


def test_clearing_the_cache_clears_the_counters():
    counters.hit("test:counter:clear", 60)
    counters.hit("test:counter:clear", 60)
    cache.clear()
    assert counters.hit("test:counter:clear", 60) == 1


def test_broker_rate_limit_windows_count_through_the_counters():
    limits = (RateLimit(2, 60),)
    for _ in range(2):
        ratelimit.acquire(scope="test:acct", endpoint="orders", limits=limits, max_wait=0)
    try:
        ratelimit.acquire(scope="test:acct", endpoint="orders", limits=limits, max_wait=0)
    except RateLimited:
        pass
    else:
        raise AssertionError("the third call in a window of 2 went through")
