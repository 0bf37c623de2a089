"""Fixtures for the paper tests."""

import pytest

from marketdata import refresh
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account


@pytest.fixture
def paper(emulator, user, settings):
    """A paper account with ₹1,00,000, priced by a connected AngelOne account."""
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    live, _ = connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    return connected_paper_account(user), emulator.state.market
