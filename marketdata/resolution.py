"""Symbol resolution: the one way any caller turns what a trader or TradingView
wrote into a broker's `Instrument`.

Accepted: `NSE:INFY`, `INFY` (+ exchange), a broker trading symbol (`SBIN-EQ`),
TradingView spellings (`BAJAJ_AUTO` for `BAJAJ-AUTO`, `M_M` for `M&M`), index
names (`NIFTY 50`) and aliases (`SymbolAlias`). Never falls back to another
broker's instruments: a miss is a `SymbolNotFound` that says what was tried.

Results are cached in process per broker; the cache is dropped when that
broker's master is refreshed (here directly, in other processes within
RESOLUTION_VERSION_CHECK_SECONDS through a version in the shared cache).
"""

from __future__ import annotations

import itertools
import threading
import time

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db.models import Q
from django.utils import timezone

from brokers import registry

from .models import Instrument, SymbolAlias

SEARCH_ORDER = ("NSE", "BSE", "NFO", "BFO", "MCX", "CDS", "BCD")
MAX_CACHED = 200_000


class SymbolNotFound(LookupError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _BrokerCache:
    __slots__ = ("results", "aliases", "version", "checked_at")

    def __init__(self, version):
        self.results: dict = {}
        self.aliases: dict | None = None
        self.version = version
        self.checked_at = time.monotonic()


_caches: dict[str, _BrokerCache] = {}
_lock = threading.Lock()


# --- Versions: how every process's cache learns that a master changed ---------------


def version_key(broker: str) -> str:
    return f"marketdata:instruments-version:{broker}"


def bump_version(broker: str) -> None:
    """A broker's instruments changed (refresh, alias import, admin edit): every
    process drops its resolutions at its next version check, this one now."""
    shared_cache.set(version_key(broker), timezone.now().timestamp(), None)
    forget(broker)


def forget(broker: str | None = None) -> None:
    """Drop cached resolutions (for one broker, or all)."""
    with _lock:
        if broker is None:
            _caches.clear()
        else:
            _caches.pop(broker, None)


def _cache_for(broker: str) -> _BrokerCache:
    entry = _caches.get(broker)
    now = time.monotonic()
    if entry is not None and now - entry.checked_at < settings.RESOLUTION_VERSION_CHECK_SECONDS:
        return entry
    version = shared_cache.get(version_key(broker))
    if entry is None or entry.version != version:
        entry = _BrokerCache(version)
        with _lock:
            _caches[broker] = entry
    entry.checked_at = now
    return entry


def resolve(*, broker: str, symbol: str, exchange: str | None = None) -> Instrument:
    """The broker's instrument for `symbol`, or SymbolNotFound."""
    entry = _cache_for(broker)
    key = (symbol, exchange)
    found = entry.results.get(key)
    if found is not None:
        return found
    found = _resolve(broker, symbol, exchange, entry)
    if len(entry.results) >= MAX_CACHED:
        entry.results.clear()
    entry.results[key] = found
    return found


def split_exchange(symbol: str, exchange: str | None) -> tuple[str, list[str]]:
    text = " ".join(symbol.strip().upper().split())
    if not text:
        raise SymbolNotFound("No symbol given.")
    prefix = ""
    if ":" in text:
        prefix, text = (part.strip() for part in text.split(":", 1))
    asked = (exchange or "").strip().upper()
    if prefix and asked and prefix != asked:
        raise SymbolNotFound(f"{symbol} names {prefix}, but exchange {asked} was asked for.")
    chosen = prefix or asked
    return text, [chosen] if chosen else list(SEARCH_ORDER)


def tradingview_spellings(text: str) -> list[str]:
    """TradingView writes '-' and '&' as '_': BAJAJ_AUTO, M_M."""
    if "_" not in text or text.count("_") > 3:
        return []
    parts = text.split("_")
    spellings = []
    for joins in itertools.product("-&", repeat=len(parts) - 1):
        spellings.append(parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True)))
    return spellings


def _aliases(broker: str, entry: _BrokerCache) -> dict[tuple[str, str], str]:
    if entry.aliases is None:
        rows = SymbolAlias.objects.filter(broker__in=[broker, SymbolAlias.ANY_BROKER]).order_by(
            "broker"  # "" (any broker) first, so the broker's own alias wins
        )
        entry.aliases = {(a.exchange, a.source): a.target for a in rows}
    return entry.aliases


def _candidates(text: str, exchange: str, aliases) -> list[str]:
    """Names to look for, best first: an alias, the text, its spellings."""
    names = [text]
    alias = aliases.get((exchange, text))
    if alias:
        names.insert(0, alias.upper())
    if text.endswith("-EQ"):
        names.append(text[:-3])  # a series-suffixed symbol at a broker without suffixes
    names.extend(tradingview_spellings(text))
    return list(dict.fromkeys(names))


def _rank(instrument: Instrument, names: list[str]) -> tuple:
    """Earliest matching name first; then an exact trading symbol; then the EQ series."""
    symbol = instrument.trading_symbol.upper()
    position = min(names.index(n) for n in (symbol, instrument.canonical_symbol) if n in names)
    return (position, symbol not in names, instrument.series not in ("EQ", ""), instrument.pk)


def _resolve(broker: str, symbol: str, exchange: str | None, entry) -> Instrument:
    text, exchanges = split_exchange(symbol, exchange)
    aliases = _aliases(broker, entry)
    tried = []
    for exch in exchanges:
        names = _candidates(text, exch, aliases)
        tried.extend(f"{exch}:{n}" for n in names)
        matches = list(
            Instrument.objects.filter(broker=broker, exchange=exch).filter(
                Q(canonical_symbol__in=names) | Q(trading_symbol__in=names)
            )[:20]
        )
        if matches:
            return min(matches, key=lambda i: _rank(i, names))
    label = _label(broker)
    if not Instrument.objects.filter(broker=broker).exists():
        raise SymbolNotFound(
            f"No {label} instruments are loaded yet: refresh instruments "
            f"(Settings, or `manage.py refresh_instruments --broker {broker}`)."
        )
    where = exchanges[0] if len(exchanges) == 1 else "/".join(exchanges)
    raise SymbolNotFound(
        f"{text} is not in the {label} {where} instruments (tried {', '.join(tried[:6])}); "
        "refresh instruments or add an alias."
    )


def _label(broker: str) -> str:
    try:
        return registry.get_adapter_class(broker).label
    except registry.UnknownBroker:
        return broker
