"""Last traded prices for an account's instruments, behind a short shared cache.

A price the broker did not give (or gave as zero) is None, never 0: a zero
price once fired stop-loss triggers in the earlier version.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from brokers.connections import calling

from .models import Instrument


def _key(instrument: Instrument) -> str:
    return f"marketdata:ltp:{instrument.broker}:{instrument.exchange}:{instrument.token}"


def ltp(
    *, account, instruments: list[Instrument], fresh: bool = False
) -> dict[int, Decimal | None]:
    """{instrument.pk: price or None}. Fetches only what the cache lacks (everything
    when `fresh`, e.g. for triggers), in the broker's batch size; broker errors
    propagate (an expired session marks the account expired on the way)."""
    foreign = [i for i in instruments if i.broker != account.broker]
    if foreign:
        raise ValueError(f"{foreign[0]} is not an instrument of {account.display_name}")
    keys = {_key(i): i for i in instruments}
    cached = {} if fresh else cache.get_many(list(keys))
    prices: dict[int, Decimal | None] = {i.pk: None for i in instruments}
    for key, value in cached.items():
        prices[keys[key].pk] = Decimal(value)
    missing = [i for key, i in keys.items() if key not in cached]
    if missing:
        with calling(account) as adapter:
            quotes = adapter.quotes([i.ref for i in missing])
        fresh = {}
        for instrument in missing:
            quote = quotes.get(instrument.ref)
            price = quote.last_price if quote else None
            if price is not None and price > 0:
                prices[instrument.pk] = price
                fresh[_key(instrument)] = str(price)
        if fresh:
            cache.set_many(fresh, settings.QUOTE_CACHE_SECONDS)
    return prices


def cached_ltp(instruments) -> dict[int, Decimal]:
    """{instrument.pk: price} for what the shared cache holds now; never calls a
    broker (for pages that ask on every keystroke, like the autocomplete)."""
    keys = {_key(i): i for i in instruments}
    return {keys[key].pk: Decimal(value) for key, value in cache.get_many(list(keys)).items()}
