"""Deterministic candles for the emulator: the same instrument and bar time always
give the same bar, so tests and the demo can rely on them."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .market import Instrument, to_tick

IST = ZoneInfo("Asia/Kolkata")
OPEN, CLOSE = time(9, 15), time(15, 30)
STEP = {"1m": 1, "3m": 3, "5m": 5, "10m": 10, "15m": 15, "30m": 30, "1h": 60}


def bar_times(interval: str, start: datetime, end: datetime):
    """Bar start times in [start, end], weekdays in market hours (daily: 09:15)."""
    day = start.astimezone(IST).date()
    last = end.astimezone(IST)
    while day <= last.date():
        if day.weekday() < 5:
            if interval == "1d":
                yield datetime.combine(day, OPEN, tzinfo=IST)  # one bar per trading day
            else:
                moment = datetime.combine(day, OPEN, tzinfo=IST)
                closing = datetime.combine(day, CLOSE, tzinfo=IST)
                while moment < closing:
                    if start <= moment <= end:
                        yield moment
                    moment += timedelta(minutes=STEP[interval])
        day += timedelta(days=1)


def bar(inst: Instrument, base: Decimal, interval: str, moment: datetime) -> tuple:
    seed = hashlib.sha256(f"{inst.exchange}:{inst.symbol}:{interval}:{moment.isoformat()}".encode())
    rng = random.Random(seed.digest())  # noqa: S311 (repeatable prices, not crypto)
    drift = Decimal(rng.randint(-300, 300)) / 10000
    open_ = to_tick(base * (1 + drift))
    close = to_tick(open_ * (1 + Decimal(rng.randint(-80, 80)) / 10000))
    high = max(open_, close) + to_tick(open_ * Decimal(rng.randint(0, 40)) / 10000)
    low = min(open_, close) - to_tick(open_ * Decimal(rng.randint(0, 40)) / 10000)
    return open_, high, low, close, rng.randint(1000, 200000)
