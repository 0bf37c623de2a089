"""Live prices for pages: a shared cache that one background task fills.

`refresh_quotes` makes one batched quote call per account (the adapter splits
only beyond the broker's batch size) and stores each price with the time it
was taken. Pages read `cached` only: a page's poll never reaches a broker, so
ten open tabs cost what one does. A price keeps its time, so a page can show
how old it is (and grey it out) when the refresh stops for any reason.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from brokers.base import BrokerError
from brokers.connections import calling

from .models import Instrument

logger = logging.getLogger(__name__)

KEEP_SECONDS = 6 * 3600  # an old price is still worth showing, with its age


@dataclass(frozen=True)
class LivePrice:
    price: Decimal
    close: Decimal | None
    at: float  # epoch seconds when the broker gave it
    high: Decimal | None = None  # the day's, where the broker gives them
    low: Decimal | None = None

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.at)

    @property
    def stale(self) -> bool:
        return self.age > settings.LIVE_STALE_SECONDS


def _key(instrument: Instrument) -> str:
    return f"marketdata:live:{instrument.broker}:{instrument.exchange}:{instrument.token}"


def _short_key(instrument: Instrument) -> str:  # marketdata.quotes' cache: fresh hits there too
    return f"marketdata:ltp:{instrument.broker}:{instrument.exchange}:{instrument.token}"


def cached(instruments) -> dict[int, LivePrice]:
    """{instrument.pk: LivePrice} for the instruments the cache has. Never calls a broker."""
    wanted = {_key(i): i for i in instruments if i is not None}
    found = cache.get_many(list(wanted)) if wanted else {}
    result = {}
    for key, value in found.items():
        price, close, at, *day = value  # (high, low) after those, when the broker gave them
        high, low = (day + ["", ""])[:2]
        result[wanted[key].pk] = LivePrice(
            Decimal(price),
            Decimal(close) if close else None,
            float(at),
            Decimal(high) if high else None,
            Decimal(low) if low else None,
        )
    return result


def store(
    instrument: Instrument,
    *,
    price: Decimal,
    close: Decimal | None,
    at: float,
    high: Decimal | None = None,
    low: Decimal | None = None,
) -> None:
    value = (str(price), str(close) if close else "", at, str(high or ""), str(low or ""))
    cache.set(_key(instrument), value, KEEP_SECONDS)


def refresh_account(account, wanted: list[tuple[Instrument, list[Instrument]]]) -> int:
    """One batched quote call on `account` for `wanted` = [(its instrument, also-priced
    instruments)], e.g. a paper account's instrument priced from this account's quote.
    Returns how many prices were stored; broker errors propagate."""
    by_ref = {}
    for instrument, also in wanted:
        by_ref.setdefault(instrument.ref, (instrument, []))[1].extend(also)
    if not by_ref:
        return 0
    with calling(account) as adapter:
        quotes = adapter.quotes(list(by_ref))
    now = time.time()
    stored = 0
    short = {}
    for ref, (instrument, also) in by_ref.items():
        quote = quotes.get(ref)
        if not quote or not quote.last_price or quote.last_price <= 0:
            continue
        for target in (instrument, *also):
            store(
                target,
                price=quote.last_price,
                close=quote.close,
                at=now,
                high=quote.high,
                low=quote.low,
            )
            short[_short_key(target)] = str(quote.last_price)
            stored += 1
    if short:
        cache.set_many(short, settings.QUOTE_CACHE_SECONDS)
    return stored


def refresh_quotes(plan: dict) -> dict:
    """`plan`: {account: [(instrument, also)]} → {account id: stored count or error}."""
    outcome = {}
    for account, wanted in plan.items():
        try:
            outcome[account.pk] = refresh_account(account, wanted)
        except BrokerError as exc:
            logger.info("live quotes for account %s: %s", account.pk, exc.message)
            outcome[account.pk] = f"error: {exc.message}"
    return outcome


def age_text(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


class Shown:
    """A price for a cell: the live one when the cache has it, else a stored one (with
    the time it was stored), so the page can say how old it is."""

    def __init__(self, price, *, at: float | None, live_price: bool):
        self.price = price
        self.at = at
        self.live = live_price

    @property
    def age(self) -> float | None:
        return None if self.at is None else max(0.0, time.time() - self.at)

    @property
    def stale(self) -> bool:
        return self.age is None or self.age > settings.LIVE_STALE_SECONDS

    @property
    def title(self) -> str:
        if self.age is None:
            return "No live price"
        source = "Live price, " if self.live else "Price from the last sync, "
        return source + age_text(self.age)


def shown_for(instruments) -> dict[int, Shown]:
    """{instrument pk: Shown} from the cache only."""
    return {
        pk: Shown(found.price, at=found.at, live_price=True)
        for pk, found in cached(instruments).items()
    }


# --- What pages are showing now ------------------------------------------------------
# A page whose rows are not orders, holdings or positions (a watchlist) says which
# instruments it shows, for which account; the beat task's plan quotes them while
# someone has the page open (each poll renews them) and drops them VIEW_SECONDS later.

VIEW_SECONDS = 60
MAX_VIEWED_PER_ACCOUNT = 1000  # a cap per account: 20 calls of 50 at the smallest batch


def _viewed_key(account_id: int) -> str:
    return f"marketdata:viewed:{account_id}"


def note_viewed(account, instruments) -> None:
    """`account`'s `instruments` are on a page now: keep them in the quote plan."""
    now = time.time()
    key = _viewed_key(account.pk)
    current = {pk: until for pk, until in (cache.get(key) or {}).items() if until > now}
    for instrument in instruments:
        if instrument is not None:
            current[instrument.pk] = now + VIEW_SECONDS
    if len(current) > MAX_VIEWED_PER_ACCOUNT:
        newest = sorted(current.items(), key=lambda item: item[1], reverse=True)
        current = dict(newest[:MAX_VIEWED_PER_ACCOUNT])
    cache.set(key, current, VIEW_SECONDS)


def viewed(account_ids) -> dict[int, set[int]]:
    """{account id: instrument ids some page showed in the last VIEW_SECONDS}."""
    keys = {_viewed_key(pk): pk for pk in account_ids}
    now = time.time()
    result: dict[int, set[int]] = {}
    for key, value in (cache.get_many(list(keys)) if keys else {}).items():
        ids = {pk for pk, until in value.items() if until > now}
        if ids:
            result[keys[key]] = ids
    return result
