"""The data a cycle evaluates against, loaded in bulk: live prices from the shared
quote cache (never a broker call) and stored candles (one query per interval)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import FloatField
from django.db.models.functions import Cast
from django.utils import timezone

from marketdata import live
from marketdata.models import Candle

from .targets import instruments_by_name

IST = ZoneInfo("Asia/Kolkata")
SPAN = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
# Calendar time per bar of market time (sessions of 6¼ h, five days a week, holidays).
CALENDAR = {"1m": 6.0, "5m": 6.0, "15m": 6.0, "1h": 6.0, "1d": 1.6}
MAX_BARS = 2500
# A newest bar older than this many bar-lengths (calendar) is stale; a daily bar is
# stale after 5 days (a long weekend and a holiday are not).
STALE_BARS = {"1m": 3, "5m": 3, "15m": 3, "1h": 3, "1d": 5}
INTRADAY_GRACE = timedelta(hours=18)  # intraday bars of the last session before the open
CLOSE = time(15, 30)  # the cash session's close, India time


@dataclass
class Bars:
    at: list[datetime]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    volume: list[float]

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "open": list(self.open),
            "high": list(self.high),
            "low": list(self.low),
            "close": list(self.close),
            "volume": list(self.volume),
        }


def load_bars(names: set[tuple[str, str]], *, interval: str, bars: int, now=None) -> dict:
    """{(exchange, symbol): Bars} with at most `bars` newest bars each, one query."""
    if not names:
        return {}
    now = now or timezone.now()
    bars = max(1, min(bars, MAX_BARS))
    days = bars * SPAN[interval] * CALENDAR[interval] / 86400 + 10
    cutoff = now - timedelta(days=days)
    rows = (
        Candle.objects.filter(
            interval=interval,
            canonical_symbol__in={symbol for _exchange, symbol in names},
            at__gte=cutoff,
            at__lte=now,
        )
        .order_by("exchange", "canonical_symbol", "at")
        # Floats from the database: indicators need floats, and converting half a
        # million Decimals on the way (the screener's load) costs more than the math.
        .values_list(
            "exchange",
            "canonical_symbol",
            "at",
            Cast("open", FloatField()),
            Cast("high", FloatField()),
            Cast("low", FloatField()),
            Cast("close", FloatField()),
            Cast("volume", FloatField()),
        )
    )
    found: dict[tuple[str, str], Bars] = {}
    for exchange, symbol, at, o, h, lo, c, v in rows.iterator(chunk_size=5000):
        key = (exchange, symbol)
        if key not in names:
            continue
        entry = found.get(key)
        if entry is None:
            entry = found[key] = Bars([], [], [], [], [], [])
        entry.at.append(at)
        entry.open.append(o)
        entry.high.append(h)
        entry.low.append(lo)
        entry.close.append(c)
        entry.volume.append(v)
    for entry in found.values():
        if len(entry.at) > bars:
            for name in ("at", "open", "high", "low", "close", "volume"):
                setattr(entry, name, getattr(entry, name)[-bars:])
    return found


def closed_bars(entry: Bars | None, *, interval: str, now=None) -> Bars | None:
    """`entry` without a bar still forming at `now` (a broker's history includes the
    current interval's bar): a rule "per bar close" sees closed bars only. A daily bar
    closes with the cash session (15:30 India time)."""
    if entry is None or not entry.at:
        return entry
    now = now or timezone.now()
    newest = entry.at[-1]
    if interval == "1d":
        local = timezone.localtime(now, IST)
        forming = timezone.localtime(newest, IST).date() == local.date() and local.time() < CLOSE
    else:
        forming = newest + timedelta(seconds=SPAN[interval]) > now
    if not forming:
        return entry
    return Bars(
        entry.at[:-1],
        entry.open[:-1],
        entry.high[:-1],
        entry.low[:-1],
        entry.close[:-1],
        entry.volume[:-1],
    )


def stale_reason(entry: Bars | None, *, interval: str, now=None) -> str:
    """Why these bars cannot be used now ("" when they can)."""
    if entry is None or not entry.at:
        return f"no recent {interval} candles stored"
    now = now or timezone.now()
    newest = entry.at[-1]
    limit = timedelta(seconds=SPAN[interval] * STALE_BARS[interval])
    if interval != "1d":
        limit += INTRADAY_GRACE
    if now - newest > limit:
        shown = timezone.localtime(newest, IST).strftime("%d %b %H:%M")
        return f"{interval} candles are stale (newest {shown} IST)"
    return ""


def live_prices(names: set[tuple[str, str]]) -> dict[tuple[str, str], live.LivePrice]:
    """{(exchange, symbol): the freshest cached price at any broker}; no broker call."""
    instruments = instruments_by_name(names)
    flat = [i for group in instruments.values() for i in group]
    cached = live.cached(flat)
    found: dict[tuple[str, str], live.LivePrice] = {}
    for key, group in instruments.items():
        for instrument in group:
            price = cached.get(instrument.pk)
            if price is not None and (key not in found or price.at > found[key].at):
                found[key] = price
    return found


def with_live_bar(entry: Bars | None, price: float, *, now=None) -> dict[str, list[float]]:
    """Daily bars with today's bar carrying the live price (a new bar when the newest
    stored one is from an earlier day)."""
    now = now or timezone.now()
    if entry is None or not entry.at:
        return {"open": [price], "high": [price], "low": [price], "close": [price], "volume": [0.0]}
    bars = entry.as_dict()
    today = timezone.localtime(now, IST).date()
    if timezone.localtime(entry.at[-1], IST).date() == today:
        bars["close"][-1] = price
        bars["high"][-1] = max(bars["high"][-1], price)
        bars["low"][-1] = min(bars["low"][-1], price)
    else:
        for name in ("open", "high", "low", "close"):
            bars[name].append(price)
        bars["volume"].append(0.0)
    return bars
