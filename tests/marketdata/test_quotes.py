"""ltp(): batched at the broker's size, cached briefly, None (never 0) when missing."""

from decimal import Decimal

import pyotp
import pytest

from brokers import accounts
from brokers.base import InstrumentRow
from marketdata import quotes, refresh
from marketdata.models import Instrument
from tests.brokers.peers.angelone import smart_peer


@pytest.fixture
def smart_account(db, emulator, user):
    peer = smart_peer(emulator)
    account = accounts.create_account(
        user=user, broker="angelone", label="main", credentials=peer.credentials
    )
    from brokers import connections

    connections.connect_with_credentials(
        account=account,
        per_connect={"connect_pin": peer.user.pin, "totp": pyotp.TOTP(peer.user.totp_secret).now()},
    )
    account.refresh_from_db()
    refresh.refresh_instruments(broker="angelone")
    return account, peer


def nse(symbol):
    return Instrument.objects.get(broker="angelone", exchange="NSE", canonical_symbol=symbol)


def test_prices_come_back_per_instrument(smart_account):
    account, peer = smart_account
    peer.server.state.market.set_price("NSE", "SBIN", "812.40")
    wanted = [nse("SBIN"), nse("INFY")]
    prices = quotes.ltp(account=account, instruments=wanted)
    assert prices[wanted[0].pk] == Decimal("812.40")
    assert prices[wanted[1].pk] > 0


def test_cache_hit_makes_no_broker_call_and_a_miss_does(smart_account, settings):
    account, peer = smart_account
    settings.QUOTE_CACHE_SECONDS = 30
    sbin = nse("SBIN")
    quotes.ltp(account=account, instruments=[sbin])
    calls = peer.server.state.count("smartapi", "quote")
    quotes.ltp(account=account, instruments=[sbin])
    assert peer.server.state.count("smartapi", "quote") == calls  # hit
    quotes.ltp(account=account, instruments=[sbin, nse("TCS")])
    assert peer.server.state.count("smartapi", "quote") == calls + 1  # only TCS fetched


def test_missing_and_zero_prices_are_none_never_zero(smart_account):
    account, peer = smart_account
    ghost = Instrument.objects.create(
        broker="angelone",
        exchange="NSE",
        trading_symbol="GHOST-EQ",
        canonical_symbol="GHOST",
        token="424242",
        instrument_type="EQ",
        tick_size=Decimal("0.05"),
        row_hash="x",
    )
    peer.server.state.market.set_price("NSE", "ITC", "0")
    itc = nse("ITC")
    prices = quotes.ltp(account=account, instruments=[ghost, itc])
    assert prices == {ghost.pk: None, itc.pk: None}


def test_batches_follow_the_brokers_batch_size(smart_account):
    account, peer = smart_account
    many = list(
        Instrument.objects.filter(broker="angelone", exchange="NSE", instrument_type="EQ")[:120]
    )
    before = peer.server.state.count("smartapi", "quote")
    prices = quotes.ltp(account=account, instruments=many)
    assert peer.server.state.count("smartapi", "quote") - before == 3  # 50 + 50 + 20
    assert all(price is not None and price > 0 for price in prices.values())


def test_instruments_of_another_broker_are_refused(smart_account):
    account, _ = smart_account
    refresh.apply_master(
        broker="zerodha",
        rows=[
            InstrumentRow(
                exchange="NSE",
                trading_symbol="SBIN",
                token="779521",
                name="SBIN",
                instrument_type="EQ",
            )
        ],
    )
    with pytest.raises(ValueError, match="is not an instrument of AngelOne · main"):
        quotes.ltp(account=account, instruments=[Instrument.objects.get(broker="zerodha")])
