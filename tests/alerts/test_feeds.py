"""Feeding the rules: one batched quote call per account for the watched symbols
without a fresh price, candle fetches capped and never repeated within a bar."""

import pytest
from django.utils import timezone

from alerts import feeds, tasks
from alerts.models import AlertEvent, AlertRule
from marketdata import refresh
from marketdata.models import Candle
from tests.alerts.helpers import rule
from tests.brokers.peers import connected_account


@pytest.fixture
def kite(emulator, user, settings):
    settings.MARKET_CLOCK = "always-open"
    account, peer = connected_account(emulator, user, "zerodha", "main", default=True)
    refresh.refresh_instruments(broker="zerodha")
    return account


def test_the_beat_task_prices_the_watched_symbols_in_one_call_and_fires(kite, user, emulator):
    for symbol in ("INFY", "SBIN", "TCS"):
        rule(user, name=symbol, symbol=f"NSE:{symbol}", expression="close > 0")
    rule(user, name="twice", symbol="NSE:INFY", expression="close > 1")
    before = emulator.state.count("kite", "quote")
    counts = tasks.evaluate_alerts()
    assert emulator.state.count("kite", "quote") == before + 1  # one batch for 3 symbols
    assert counts["fired"] == 4 and AlertEvent.objects.count() == 4
    # Fresh prices: the next cycle asks the broker for nothing.
    tasks.evaluate_alerts()
    assert emulator.state.count("kite", "quote") == before + 1


def test_no_quote_call_while_the_market_is_closed(kite, user, emulator, settings):
    settings.MARKET_CLOCK = "always-closed"
    rule(user, expression="close > 0", market_hours_only=True)
    before = emulator.state.count("kite", "quote")
    tasks.evaluate_alerts()
    assert emulator.state.count("kite", "quote") == before
    assert AlertRule.objects.get().status_message == "Waiting for market hours."


def test_candles_are_fetched_once_per_bar_for_all_the_rules_that_share_them(kite, user, emulator):
    for n in range(3):
        rule(user, name=f"r{n}", expression=f"close > sma(close, {10 + n})")
    before = emulator.state.count("kite", "history")
    counts = feeds.fetch_due_candles(list(AlertRule.objects.all()), now=timezone.now())
    assert counts["fetched"] == 1 and counts["bars"] > 0
    calls = emulator.state.count("kite", "history") - before
    assert calls >= 1
    assert Candle.objects.filter(canonical_symbol="SBIN", interval="1d").exists()
    # Asked again within the bar: nothing more.
    Candle.objects.all().delete()
    again = feeds.fetch_due_candles(list(AlertRule.objects.all()), now=timezone.now())
    assert again["fetched"] == 0
    assert emulator.state.count("kite", "history") - before == calls


def test_candle_fetches_per_run_are_capped(kite, user):
    for symbol in ("INFY", "SBIN", "TCS"):
        rule(user, symbol=f"NSE:{symbol}", expression="rsi(14) < 30")
    counts = feeds.fetch_due_candles(list(AlertRule.objects.all()), limit=2)
    assert counts["needed"] == 3 and counts["fetched"] == 2
