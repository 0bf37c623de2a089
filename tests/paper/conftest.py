"""Fixtures for the paper tests."""

import pytest

from brokers import accounts
from brokers import connections as broker_connections
from marketdata import refresh
from tests.brokers.peers import connected_account


@pytest.fixture
def paper(emulator, user, settings):
    """A paper account with ₹1,00,000, priced by a connected AngelOne account."""
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    live, _ = connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    account = accounts.create_account(
        user=user,
        broker="paper",
        label="practice",
        credentials={"starting_cash": "100000", "price_source": "live"},
    )
    broker_connections.connect_with_credentials(account=account, per_connect={})
    account.refresh_from_db()
    return account, emulator.state.market
