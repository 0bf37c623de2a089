"""list_instruments: a list's members as one account's broker instruments."""

import pytest
from django.http import Http404

from watchlists import selectors
from watchlists.models import Member, Watchlist


def make_list(user, *members, name="Momentum"):
    watchlist = Watchlist.objects.create(user=user, name=name)
    for position, (exchange, symbol) in enumerate(members):
        Member.objects.create(
            watchlist=watchlist, exchange=exchange, symbol=symbol, position=position
        )
    return watchlist


def test_members_resolve_per_broker_in_order_skipping_misses(masters, user, make_account):
    watchlist = make_list(
        user, ("NSE", "INFY"), ("NSE", "SBIN"), ("BSE", "BSEONLY"), ("NSE", "BAJAJ-AUTO")
    )
    kite = make_account(user, "zerodha")
    smart = make_account(user, "angelone")
    got = selectors.list_instruments(user=user, watchlist_id=watchlist.pk, account=kite)
    assert [(i.broker, i.exchange, i.trading_symbol) for i in got] == [
        ("zerodha", "NSE", "INFY"),
        ("zerodha", "NSE", "SBIN"),
        ("zerodha", "BSE", "BSEONLY"),
        ("zerodha", "NSE", "BAJAJ-AUTO"),
    ]
    got = selectors.list_instruments(user=user, watchlist_id=str(watchlist.pk), account=smart)
    # The BSE-only scrip is not at this broker: left out, never another broker's row.
    assert [i.trading_symbol for i in got] == ["INFY-EQ", "SBIN-EQ", "BAJAJ-AUTO-EQ"]
    assert {i.broker for i in got} == {"angelone"}


def test_another_users_list_or_account_is_a_404(masters, user, other_user, make_account):
    mine = make_list(user, ("NSE", "SBIN"))
    theirs = make_list(other_user, ("NSE", "SBIN"))
    my_account = make_account(user)
    their_account = make_account(other_user)
    with pytest.raises(Http404):
        selectors.list_instruments(user=user, watchlist_id=theirs.pk, account=my_account)
    with pytest.raises(Http404):
        selectors.list_instruments(user=user, watchlist_id=mine.pk, account=their_account)
    with pytest.raises(Http404):
        selectors.list_instruments(user=user, watchlist_id="nonsense", account=my_account)
