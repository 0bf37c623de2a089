"""The live watchlist: what an open page shows joins the beat's quote plan (one batched
call per real account), and its poll reads only the cache."""

import pytest
from django.urls import reverse

from marketdata import live, refresh
from portfolio.live import quote_plan, refresh_live_quotes
from tests.brokers.peers import connected_account, peer_class
from tests.brokers.peers.paper import connected_paper_account
from watchlists.models import Member, Watchlist

HX = {"HX-Request": "true"}


@pytest.fixture
def accounts(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    zerodha, _ = connected_account(emulator, user, "zerodha", "z")
    angel, _ = connected_account(emulator, user, "angelone", "a")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    paper = connected_paper_account(user, price_source="a", load_instruments=True)
    market = emulator.state.market
    for symbol, price in (("SBIN", "800"), ("INFY", "1500"), ("TCS", "4000")):
        market.set_price("NSE", symbol, price)
    return zerodha, angel, paper, emulator


def make_list(user, *symbols):
    watchlist = Watchlist.objects.create(user=user, name="Live")
    for n, symbol in enumerate(symbols):
        Member.objects.create(watchlist=watchlist, exchange="NSE", symbol=symbol, position=n)
    return watchlist


def calls(emulator, broker):
    return emulator.state.count(peer_class(broker).wire, "quote")


def test_an_open_watchlist_is_quoted_by_the_beat_and_its_poll_calls_no_broker(
    client, user, accounts
):
    zerodha, angel, paper, emulator = accounts
    client.force_login(user)
    watchlist = make_list(user, "SBIN", "INFY", "TCS")
    assert quote_plan() == {}  # nothing open, nothing held: nothing to quote
    before = {b: calls(emulator, b) for b in ("zerodha", "angelone")}
    page = client.get(reverse("watchlists:detail", args=[watchlist.pk]), {"account": zerodha.pk})
    assert page.status_code == 200
    assert {b: calls(emulator, b) for b in ("zerodha", "angelone")} == before  # a page: no call
    plan = quote_plan()
    assert [a.pk for a in plan] == [zerodha.pk]
    assert sorted(i.canonical_symbol for i, _ in plan[zerodha]) == ["INFY", "SBIN", "TCS"]
    refresh_live_quotes()
    assert calls(emulator, "zerodha") == before["zerodha"] + 1  # one batch for the list
    member = watchlist.members.get(symbol="SBIN")
    url = reverse("live-watchlist", args=[watchlist.pk])
    poll = client.get(url, {"account": zerodha.pk}, headers=HX).content.decode()
    assert f'id="wl-{member.pk}-ltp"' in poll and "800.00" in poll
    emulator.state.market.set_price("NSE", "SBIN", "812")
    refresh_live_quotes()
    poll = client.get(url, {"account": zerodha.pk}, headers=HX).content.decode()
    assert "812.00" in poll
    # The day's high and low as the broker gives them (the emulator: the close and the LTP).
    market = emulator.state.market
    close = market.close(market.get("NSE", "SBIN"))
    high, low = (f"{v:,.2f}" for v in (max(close, 812), min(close, 812)))
    assert f'id="wl-{member.pk}-hl" hx-swap-oob="true">{high} / {low}</span>' in poll
    assert calls(emulator, "zerodha") == before["zerodha"] + 2  # polls never called


def test_a_paper_account_view_is_priced_through_its_source(client, user, accounts):
    zerodha, angel, paper, emulator = accounts
    client.force_login(user)
    watchlist = make_list(user, "SBIN", "INFY")
    client.get(reverse("watchlists:detail", args=[watchlist.pk]), {"account": paper.pk})
    plan = quote_plan()
    assert [a.pk for a in plan] == [angel.pk]  # the paper account's price source
    refresh_live_quotes()
    html = client.get(
        reverse("watchlists:detail", args=[watchlist.pk]), {"account": paper.pk}
    ).content.decode()
    assert "800.00" in html and "1,500.00" in html


def test_views_expire_and_are_capped(user, accounts, settings):
    zerodha, *_ = accounts
    from marketdata.models import Instrument

    instruments = list(Instrument.objects.filter(broker="zerodha")[:5])
    live.note_viewed(zerodha, instruments)
    assert live.viewed([zerodha.pk]) == {zerodha.pk: {i.pk for i in instruments}}
    import time

    real = time.time
    try:
        time.time = lambda: real() + live.VIEW_SECONDS + 1
        assert live.viewed([zerodha.pk]) == {}
    finally:
        time.time = real
