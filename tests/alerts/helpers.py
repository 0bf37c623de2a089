"""Helpers for the alerts tests: instruments, cached prices and stored candles."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from alerts.models import AlertRule
from marketdata import live
from marketdata.models import Candle, Instrument


def instrument(symbol="SBIN", exchange="NSE", broker="zerodha", lot_size=1) -> Instrument:
    found, _ = Instrument.objects.get_or_create(
        broker=broker,
        exchange=exchange,
        trading_symbol=symbol,
        defaults={
            "canonical_symbol": symbol,
            "token": str(abs(hash((broker, exchange, symbol))) % 10**8),
            "instrument_type": "EQ",
            "lot_size": lot_size,
            "tick_size": Decimal("0.05"),
            "row_hash": "t",
        },
    )
    return found


def price(symbol, value, *, close=None, exchange="NSE", age=0.0, broker="zerodha"):
    """Put `value` in the shared quote cache as the live price of `symbol`."""
    live.store(
        instrument(symbol, exchange, broker),
        price=Decimal(str(value)),
        close=Decimal(str(close)) if close is not None else None,
        at=time.time() - age,
    )


def candles(symbol, closes, *, interval="1d", exchange="NSE", end=None, volume=1000):
    """Stored bars of `symbol`, the newest ending at `end` (now), one bar length apart."""
    end = end or timezone.now()
    step = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}[interval]
    count = len(closes)
    Candle.objects.bulk_create(
        [
            Candle(
                exchange=exchange,
                canonical_symbol=symbol,
                interval=interval,
                at=end - timedelta(seconds=step * (count - 1 - i)),
                open=Decimal(str(c)),
                high=Decimal(str(c)) + 1,
                low=Decimal(str(c)) - 1,
                close=Decimal(str(c)),
                volume=volume,
            )
            for i, c in enumerate(closes)
        ]
    )


def rule(user, **fields) -> AlertRule:
    values = {
        "name": "test rule",
        "target": AlertRule.Target.SYMBOL,
        "symbol": "NSE:SBIN",
        "expression": "close > 100",
        "trigger": AlertRule.Trigger.EVERY_TIME,
        "cooldown_seconds": 0,
        "market_hours_only": False,
    }
    values.update(fields)
    return AlertRule.objects.create(user=user, **values)
