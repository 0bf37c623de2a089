"""Broker-neutral candles: filled through any connected account whose adapter
declares history, read by anyone (paper trading's price fallback included)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from brokers.base import NotSupported
from brokers.connections import calling
from brokers.models import BrokerAccount

from .models import Candle, Instrument

UPDATE_FIELDS = ["open", "high", "low", "close", "volume", "source_broker"]


def accounts_with_history(user=None, interval: str | None = None) -> list[BrokerAccount]:
    """Connected accounts (of `user`, if given) whose broker offers history."""
    found = BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
    if user is not None:
        found = found.filter(user=user)
    usable = []
    for account in found:
        intervals = account.adapter_class.capabilities.history_intervals
        if intervals and (interval is None or interval in intervals):
            usable.append(account)
    return usable


def fetch_candles(
    *, account: BrokerAccount, instrument: Instrument, interval: str, start: datetime, end: datetime
) -> int:
    """Fetch and store candles, in request-sized spans; returns the bars stored."""
    if instrument.broker != account.broker:
        raise ValueError(f"{instrument} is not an instrument of {account.display_name}")
    capabilities = account.adapter_class.capabilities
    if interval not in capabilities.history_intervals:
        raise NotSupported(f"{account.broker_label} offers no {interval} candles.")
    span = timedelta(days=capabilities.history_max_days.get(interval, 30))
    stored = 0
    with calling(account) as adapter:
        cursor = start
        while cursor < end:
            upto = min(cursor + span, end)
            bars = adapter.candles(instrument.ref, interval=interval, start=cursor, end=upto)
            Candle.objects.bulk_create(
                [
                    Candle(
                        exchange=instrument.exchange,
                        canonical_symbol=instrument.canonical_symbol,
                        interval=interval,
                        at=bar.at,
                        open=bar.open,
                        high=bar.high,
                        low=bar.low,
                        close=bar.close,
                        volume=bar.volume,
                        source_broker=account.broker,
                    )
                    for bar in bars
                ],
                update_conflicts=True,
                unique_fields=["exchange", "canonical_symbol", "interval", "at"],
                update_fields=UPDATE_FIELDS,
                batch_size=1000,
            )
            stored += len(bars)
            cursor = upto
    return stored


def last_close(
    *, exchange: str, canonical_symbol: str, interval: str | None = None
) -> Decimal | None:
    """The most recent stored close (any interval unless one is given), or None."""
    candles = Candle.objects.filter(exchange=exchange, canonical_symbol=canonical_symbol)
    if interval:
        candles = candles.filter(interval=interval)
    latest = candles.order_by("-at").values_list("close", flat=True).first()
    return latest if latest is not None and latest > 0 else None
