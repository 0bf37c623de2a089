"""Fixtures for the portfolio tests."""

import pytest

from marketdata import refresh
from portfolio.sync import portfolio_sync_account
from tests.brokers.peers import connected_account
from tests.portfolio.helpers import seed


@pytest.fixture
def two_accounts(emulator, user, settings):
    """A Zerodha account ("main", default) and an AngelOne one ("family"), both holding INFY."""
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    main, main_peer = connected_account(emulator, user, "zerodha", "main", default=True)
    family, family_peer = connected_account(emulator, user, "angelone", "family")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    seed(main_peer, holdings=[("INFY", 10, "1500"), ("SBIN", 5, "600")])
    seed(family_peer, holdings=[("INFY", 30, "1600", 4)], positions=[("TCS", "MIS", 3, "3500")])
    assert portfolio_sync_account(main).ok and portfolio_sync_account(family).ok
    return main, family, main_peer, family_peer
