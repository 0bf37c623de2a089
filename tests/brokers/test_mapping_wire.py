"""Mapping fixes from the brokers' published shapes, across the wire: the real
clients against the emulator serving those shapes, then into the portfolio."""

from decimal import Decimal

import pytest
from django.urls import reverse

from emulator.state import Lot
from marketdata import refresh
from portfolio.models import Holding, PortfolioSync, Position
from portfolio.sync import portfolio_sync_account
from tests.brokers.peers import connected_account

D = Decimal


def ready(emulator, user, broker):
    account, peer = connected_account(emulator, user, broker, broker)
    refresh.refresh_instruments(broker=broker)
    return account, peer


@pytest.fixture
def smart(emulator, user):
    return ready(emulator, user, "angelone")


@pytest.fixture
def kite(emulator, user):
    return ready(emulator, user, "zerodha")


def test_angelone_available_cash_is_rms_net(smart):
    account, peer = smart
    book = peer.user.book
    book.cash, book.used_margin = D("500000"), D("120000")
    assert portfolio_sync_account(account).ok
    state = PortfolioSync.objects.get(account=account)
    # RMS availablecash is the ledger's 5,00,000; what can be used now is `net`.
    assert state.available_cash == D("380000") and state.used_margin == D("120000")


def open_position(peer, symbol, quantity, average):
    lot = Lot("NSE", symbol, quantity, D(average), product="MIS")
    lot.buy_quantity, lot.buy_value = quantity, D(average) * quantity
    peer.user.book.positions[("NSE", symbol, "MIS")] = lot


@pytest.mark.parametrize("documented", [False, True], ids=["with-pnl", "as-documented"])
def test_angelone_positions_without_pnl_or_ltp_are_priced_not_zero(smart, documented):
    account, peer = smart
    state = peer.server.state
    state.smart_positions_without_pnl = documented
    open_position(peer, "SBIN", 4, "800")
    state.market.set_price("NSE", "SBIN", "812.50")
    quotes_before = state.count("smartapi", "quote")
    assert portfolio_sync_account(account).ok
    position = Position.objects.get(account=account)
    # netvalue "- 3200.00" + 4 × 812.50 = 50.00, whichever shape came back.
    assert position.pnl == D("50.00") and position.last_price == D("812.50")
    assert position.unrealised == D("50.00")
    assert (state.count("smartapi", "quote") > quotes_before) is documented


def test_angelone_positions_without_a_price_to_fetch_keep_the_previous_rows(smart):
    account, peer = smart
    state = peer.server.state
    open_position(peer, "SBIN", 4, "800")
    state.market.set_price("NSE", "SBIN", "812.50")
    assert portfolio_sync_account(account).ok
    state.smart_positions_without_pnl = True
    state.market.set_price("NSE", "SBIN", "0")  # no last price to be had
    result = portfolio_sync_account(account)
    assert not result.ok and "SBIN" in result.error
    assert Position.objects.get(account=account).pnl == D("50.00")  # not replaced by 0


def test_kite_mtf_holding_is_carried_and_shown(kite, client):
    account, peer = kite
    lot = Lot("NSE", "INFY", 10, D("1500"))
    lot.mtf_quantity, lot.mtf_average_price = 40, D("1400")
    peer.user.book.holdings[("NSE", "INFY")] = lot
    assert portfolio_sync_account(account).ok
    holding = Holding.objects.get(account=account)
    assert holding.quantity == 10 and holding.mtf_quantity == 40
    client.force_login(account.user)
    page = client.get(reverse("portfolio:holdings") + f"?account={account.pk}").content.decode()
    assert 'data-testid="mtf"' in page and "MTF 40" in page
