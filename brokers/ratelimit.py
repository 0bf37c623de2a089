"""Outbound rate limits per broker account, shared by every process.

Counts live in the Django cache (Redis in production, so web and workers see
one count). Each declared window is a fixed window: when one is full, the
caller waits for it to roll over, up to `max_wait`, and otherwise gets
`RateLimited` without the request ever reaching the broker.

A worker must not hold its slot while it waits (orders of other accounts
would queue behind it): `reserve` takes a slot now or says how long until
one frees, without waiting, and `prepaid` lets the call that follows use the
slot reserved for it instead of taking a second one.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time

from sigmatrader import counters

from .base import EndpointClass, RateLimit, RateLimited


def _now() -> float:  # the clock of every window (tests may set it)
    return time.time()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


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
    clock=None,
    sleep=None,
) -> None:
    """Take one request slot in every window, waiting if needed."""
    clock, sleep = clock or _now, sleep or _sleep
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


def scope_for(adapter_name: str, account_key: str) -> str:
    """The rate-limit scope of one broker account (what `BrokerAdapter.throttle` counts in)."""
    return f"{adapter_name}:{account_key}"


def reserve(
    *, scope: str, endpoint: EndpointClass | str, limits: tuple[RateLimit, ...], clock=None
) -> float:
    """Take one request slot in every window now and return 0, or return the
    seconds until a full window rolls over (never waits).

    A refusal may leave slots taken in shorter windows (as `acquire` does when
    it gives up): the count errs on the side of the broker's limit.
    """
    clock = clock or _now
    for limit in sorted(limits, key=lambda item: item.per_seconds):
        now = clock()
        key, ends_at = _window_key(scope, endpoint, limit, now)
        if _take(key, limit) > limit.requests:
            return max(0.001, ends_at - now)
    return 0.0


_prepaid: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "ratelimit_prepaid", default=()
)


@contextlib.contextmanager
def prepaid(scope: str, endpoint: EndpointClass | str):
    """Inside: the first `acquire`-by-throttle for (scope, endpoint) uses the slot
    `reserve` already took (once; later calls count as usual)."""
    token = _prepaid.set((*_prepaid.get(), f"{scope}|{endpoint}"))
    try:
        yield
    finally:
        _prepaid.reset(token)


def consume_prepaid(scope: str, endpoint: EndpointClass | str) -> bool:
    """True (and the prepaid slot used up) when a reserved slot covers this call."""
    held = _prepaid.get()
    name = f"{scope}|{endpoint}"
    if name not in held:
        return False
    remaining = list(held)
    remaining.remove(name)
    _prepaid.set(tuple(remaining))
    return True
