"""Counters shared by every process (rate-limit windows): one call, one round trip."""

from __future__ import annotations

import uuid

from django.core.cache import cache

from .cache import FileBasedCache, bump_file_generation, file_generation


def hit(key: str, ttl: float) -> int:
    """Add one to the counter `key`, created with a lifetime of `ttl` seconds;
    returns the count after this hit. Atomic across processes."""
    fast = getattr(cache, "hit", None)  # sigmatrader.cache.FileBasedCache (the embedded default)
    if fast is not None:
        return fast(key, ttl)
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)  # atomic on Redis
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


def generation(name: str):
    """The current generation of `name` (any value; it changes on every bump)."""
    real = _backend()
    if isinstance(real, FileBasedCache):
        return file_generation(real, name)
    return real.get(f"generation:{name}")


def bump_generation(name: str) -> None:
    """Make `generation(name)` change in every process."""
    real = _backend()
    if isinstance(real, FileBasedCache):
        bump_file_generation(real, name)
        return
    # A fresh random value (not a count): a key lost to eviction and set again
    # can never come back to a value some process cached.
    real.set(f"generation:{name}", uuid.uuid4().hex, None)


def _backend():
    from django.core.cache import caches

    return caches["default"]
