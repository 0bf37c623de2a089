"""Outbound rate limits per broker account, shared by every process.

Counts live in the Django cache (Redis in production, so web and workers see
one count). Each declared window is a fixed window: when one is full, the
caller waits for it to roll over, up to `max_wait`, and otherwise gets
`RateLimited` without the request ever reaching the broker.
"""

from __future__ import annotations

import math
import time

from sigmatrader import counters

from .base import EndpointClass, RateLimit, RateLimited


def _window_key(
    scope: str, endpoint: EndpointClass | str, limit: RateLimit, now: float
) -> tuple[str, float]:
    index = math.floor(now / limit.per_seconds)
    ends_at = (index + 1) * limit.per_seconds
    return f"ratelimit:{scope}:{endpoint}:{limit.per_seconds:g}:{index}", ends_at


def _take(key: str, limit: RateLimit) -> int:
    return counters.hit(key, max(2, math.ceil(limit.per_seconds) + 1))


def acquire(
    *,
    scope: str,
    endpoint: EndpointClass | str,
    limits: tuple[RateLimit, ...],
    max_wait: float,
    clock=time.time,
    sleep=time.sleep,
) -> None:
    """Take one request slot in every window, waiting if needed."""
    deadline = clock() + max_wait
    for limit in sorted(limits, key=lambda item: item.per_seconds):
        while True:
            now = clock()
            key, ends_at = _window_key(scope, endpoint, limit, now)
            if _take(key, limit) <= limit.requests:
                break
            if ends_at > deadline:
                raise RateLimited(
                    f"Rate limit reached ({limit.requests} per {limit.per_seconds:g} s); "
                    "try again shortly.",
                    retry_after=ends_at - now,
                )
            sleep(max(0.0, ends_at - now) + 0.001)
