"""Counters shared by every process (rate-limit windows): one call, one round trip."""

from __future__ import annotations

from django.core.cache import cache


def hit(key: str, ttl: float) -> int:
    """Add one to the counter `key`, created with a lifetime of `ttl` seconds;
    returns the count after this hit. Atomic across processes."""
    fast = getattr(cache, "hit", None)  # sigmatrader.cache.FileCache (the embedded default)
    if fast is not None:
        return fast(key, ttl)
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)  # atomic on Redis
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1
