import pytest

from brokers.models import BrokerAccount
from marketdata import refresh, resolution
from tests.marketdata.test_symbol_resolution import eq

ZERODHA = [
    eq("SBIN", "779521"),
    eq("INFY", "408065"),
    eq("BAJAJ-AUTO", "4267265"),
    eq("M&M", "519937"),
    eq("NIFTY 50", "256265", kind="INDEX", series=""),
    eq("SBIN", "128028676", exchange="BSE"),
    eq("BSEONLY", "500001", exchange="BSE"),
]
ANGELONE = [
    eq("SBIN-EQ", "3045", canonical="SBIN"),
    eq("INFY-EQ", "1594", canonical="INFY"),
    eq("BAJAJ-AUTO-EQ", "16669", canonical="BAJAJ-AUTO"),
    eq("M&M-EQ", "2031", canonical="M&M"),
]


@pytest.fixture
def masters(db):
    resolution.forget()
    for broker, rows in (("zerodha", ZERODHA), ("angelone", ANGELONE)):
        refresh.apply_master(broker=broker, rows=rows)
        resolution.bump_version(broker)
    yield
    resolution.forget()


@pytest.fixture
def make_account(db):
    """An account row (no connection: resolution and pages need only its broker)."""

    def make(user, broker="zerodha", label=None):
        return BrokerAccount.objects.create(user=user, broker=broker, label=label or broker)

    return make
