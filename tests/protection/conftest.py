"""Fixtures for the daily loss limit, halts and kill switch tests."""

import pytest

from marketdata import refresh
from orders.models import Strategy
from portfolio.sync import portfolio_sync_account
from tests.brokers.peers import connected_account
from tests.portfolio.helpers import seed


@pytest.fixture
def desk(emulator, user, settings):
    """A connected Zerodha account (default) long 10 SBIN intraday at ₹600 and holding
    20 INFY, market open, prices frozen; an AUTO strategy on it."""
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    account, peer = connected_account(emulator, user, "zerodha", "main", default=True)
    refresh.refresh_instruments(broker="zerodha")
    market = emulator.state.market
    market.set_price("NSE", "SBIN", "600")
    market.set_price("NSE", "INFY", "1500")
    market.set_price("NSE", "TCS", "4000")
    seed(peer, holdings=[("INFY", 20, "1400")], positions=[("SBIN", "MIS", 10, "600")])
    assert portfolio_sync_account(account).ok
    strategy = Strategy.objects.create(user=user, name="Breakout", mode=Strategy.Mode.AUTO)
    return account, peer, strategy
