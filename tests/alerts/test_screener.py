"""The screener on a stored candle set: holdings of one account or all, with the
holding fields; a segment; what it skips and why."""

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alerts import screener
from alerts.models import ScreenerRun
from brokers import accounts
from portfolio.models import Holding
from tests.alerts.helpers import candles

pytestmark = pytest.mark.django_db


def paper(user, label):
    return accounts.create_account(
        user=user, broker="paper", label=label, credentials={"starting_cash": "100000"}
    )


def hold(account, symbol, quantity, average):
    Holding.objects.create(
        account=account,
        symbol=symbol,
        broker_symbol=symbol,
        exchange="NSE",
        quantity=quantity,
        average_price=Decimal(average),
        last_price=Decimal(average),
        pnl=Decimal(0),
    )


def screen(user, **fields):
    run = screener.start(user=user, **fields)
    assert screener.run(run.pk) == "done"
    run.refresh_from_db()
    return run


def test_holdings_of_one_account_or_all_with_holding_fields(user, other_user):
    one, two = paper(user, "one"), paper(user, "two")
    theirs = paper(other_user, "theirs")
    hold(one, "AAA", 10, "100")  # close 130: +30 %
    hold(two, "AAA", 5, "125")  # +4 %
    hold(two, "BBB", 5, "100")  # close 90: -10 %
    hold(theirs, "CCC", 5, "1")  # another user's: never screened
    candles("AAA", [120, 125, 130])
    candles("BBB", [100, 95, 90])
    candles("CCC", [10, 10, 10])
    run = screen(user, universe="holdings", expression="pnl_pct > 0 and close > prev(close)")
    assert run.total == 3
    assert [(r["symbol"], r["account"]) for r in run.results] == [
        ("NSE:AAA", one.display_name),
        ("NSE:AAA", two.display_name),
    ]
    assert run.results[0]["values"]["pnl_pct"] == pytest.approx(30)
    run = screen(user, universe="holdings", account=two, expression="pnl_pct < 0")
    assert run.total == 2 and [r["symbol"] for r in run.results] == ["NSE:BBB"]


def test_a_segment_screens_symbols_with_stored_candles_and_says_what_it_skipped(user):
    candles("AAA", [10, 11, 12, 13, 14])
    candles("OLD", [10, 11, 12], end=timezone.now() - timedelta(days=40))
    candles("SHORT", [10, 11])
    candles("BSEONLY", [10, 11, 12], exchange="BSE")
    run = screen(user, universe="segment", segment="NSE", expression="close > sma(close, 3)")
    assert run.total == 3 and run.matched == 1 and run.skipped == 2
    assert "NSE:SHORT: not enough history for sma(close, 3)" in run.error
    assert "NSE:OLD: no recent 1d candles stored" in run.error


def watchlist(user, name, symbols):
    from watchlists.services import create_list_of_symbols

    return create_list_of_symbols(user=user, name=name, symbols=symbols)


def test_watchlists_are_a_universe_and_matches_save_as_a_new_list(user, other_user, client):
    mine = watchlist(user, "Mine", [("NSE", "AAA"), ("NSE", "BBB")])
    also = watchlist(user, "Also", [("NSE", "BBB"), ("NSE", "CCC")])
    theirs = watchlist(other_user, "Theirs", [("NSE", "DDD")])
    candles("AAA", [10, 11, 12])
    candles("BBB", [10, 9, 8])
    candles("CCC", [10, 12, 14])
    candles("DDD", [10, 12, 14])
    run = screen(
        user, universe="watchlist", watchlist_ids=[mine.pk, also.pk], expression="close > 11"
    )
    assert run.total == 3  # BBB once, though in both lists
    assert [r["symbol"] for r in run.results] == ["NSE:AAA", "NSE:CCC"]
    # Another user's list is never screened.
    run2 = screener.start(
        user=user, universe="watchlist", watchlist_ids=[theirs.pk], expression="close > 1"
    )
    assert screener.run(run2.pk) == "failed"
    # Save the matches as a watchlist, in order.
    client.force_login(user)
    response = client.post(f"/alerts/screener/{run.pk}/save/", {"name": "Breakouts"})
    from watchlists.models import Watchlist

    saved = Watchlist.objects.get(user=user, name="Breakouts")
    assert response.status_code == 302 and response.url.endswith(f"/{saved.pk}/")
    assert [(m.exchange, m.symbol) for m in saved.members.order_by("position")] == [
        ("NSE", "AAA"),
        ("NSE", "CCC"),
    ]
    # The same name again is refused in words; nothing half-written.
    response = client.post(f"/alerts/screener/{run.pk}/save/", {"name": "breakouts"}, follow=True)
    assert "already have a list named" in response.content.decode()
    assert Watchlist.objects.filter(user=user, name__iexact="breakouts").count() == 1


def test_refused_requests_store_nothing(user, other_user):
    theirs = paper(other_user, "theirs")
    for fields, words in (
        ({"universe": "segment", "segment": "NSE", "expression": "pnl_pct > 1"}, "holdings"),
        ({"universe": "holdings", "account": theirs, "expression": "close > 1"}, "your"),
        ({"universe": "nope", "expression": "close > 1"}, "Choose"),
        ({"universe": "segment", "segment": "NSE", "expression": "close >"}, "too soon"),
    ):
        with pytest.raises(screener.ScreenerError, match=words):
            screener.start(user=user, **fields)
    assert not ScreenerRun.objects.exists()


def test_holdings_in_two_accounts_are_screened_once_labelled_with_both(user):
    """Review (issue 17, item 3): each symbol was listed twice, one per account, unlabelled."""
    one, two = paper(user, "one"), paper(user, "two")
    hold(one, "AAA", 10, "100")
    hold(two, "AAA", 5, "125")
    hold(two, "NOBARS", 5, "100")
    candles("AAA", [120, 125, 130])
    run = screen(user, universe="holdings", expression="close > 1")
    assert run.total == 2
    assert [(r["symbol"], r["account"]) for r in run.results] == [
        ("NSE:AAA", f"{one.display_name}, {two.display_name}")
    ]
    assert run.error == f"NSE:NOBARS ({two.display_name}): no recent 1d candles stored"
    assert (run.skipped, run.no_candles, run.evaluated) == (1, 1, 1)


def test_a_run_without_candles_says_so_never_no_matches_and_offers_to_fetch_them(
    user, client, emulator, settings, django_capture_on_commit_callbacks
):
    """Review: every symbol skipped for want of candles, then "No matches"."""
    from celery import current_app as celery_app

    from marketdata import refresh
    from tests.brokers.peers import connected_account

    settings.MARKET_CLOCK = "always-open"
    account, _peer = connected_account(emulator, user, "zerodha", "main", default=True)
    refresh.refresh_instruments(broker="zerodha")
    mine = watchlist(user, "Mine", [("NSE", "SBIN"), ("NSE", "INFY")])
    run = screen(user, universe="watchlist", watchlist_ids=[mine.pk], expression="close > 1")
    assert (run.total, run.skipped, run.no_candles, run.evaluated) == (2, 2, 2, 0)
    client.force_login(user)
    page = client.get(f"/alerts/screener/{run.pk}/").content.decode()
    assert "2 of 2 symbols could not be evaluated: no recent daily candles stored yet" in page
    assert "No matches" not in page and 'data-testid="screener-fetch"' in page

    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/alerts/screener/{run.pk}/fetch/")
    finally:
        celery_app.conf.task_always_eager = False
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.fetch_status, run.fetch_done, run.fetch_total) == ("done", 2, 2)
    assert "Fetched daily candles for 2 of 2 symbols" in run.fetch_message
    again = screen(user, universe="watchlist", watchlist_ids=[mine.pk], expression="close > 1")
    assert again.no_candles == 0 and again.evaluated == 2 and again.matched == 2


def test_an_empty_segment_says_why_instead_of_a_silent_zero(user, client):
    run = screen(user, universe="segment", segment="NSE", expression="close > 1")
    client.force_login(user)
    page = client.get(f"/alerts/screener/{run.pk}/").content.decode()
    assert "No NSE instruments are loaded yet" in page and "No matches" not in page
    from tests.alerts.helpers import instrument

    instrument("SBIN")
    page = client.get(f"/alerts/screener/{run.pk}/").content.decode()
    assert "No NSE symbol has stored daily candles yet" in page


def test_saved_matches_are_named_in_ist(user, client):
    from datetime import datetime

    from watchlists.models import Watchlist

    candles("AAA", [10, 11, 12])
    mine = watchlist(user, "Mine", [("NSE", "AAA")])
    run = screen(user, universe="watchlist", watchlist_ids=[mine.pk], expression="close > 1")
    ScreenerRun.objects.filter(pk=run.pk).update(
        created_at=datetime(2026, 11, 26, 7, 13, tzinfo=UTC)
    )
    client.force_login(user)
    client.post(f"/alerts/screener/{run.pk}/save/", {"name": ""})
    assert Watchlist.objects.filter(user=user, name="Screener 26 Nov 12:43").exists()


def test_a_candle_fetch_whose_worker_was_lost_can_be_started_again(user, client):
    old = timezone.now() - timedelta(hours=2)
    run = ScreenerRun.objects.create(
        user=user,
        universe="watchlist",
        expression="close > 1",
        status="done",
        total=1,
        done=1,
        skipped=1,
        no_candles=1,
        created_at=old,
    )
    assert screener.start_fetch(run)
    run.refresh_from_db()
    assert run.fetching  # started now, though the run is two hours old
    assert not screener.start_fetch(run)  # one at a time
    ScreenerRun.objects.filter(pk=run.pk).update(fetch_status="running", fetch_started_at=old)
    run.refresh_from_db()
    assert not run.fetching
    client.force_login(user)
    page = client.get(f"/alerts/screener/{run.pk}/").content.decode()
    assert 'data-testid="screener-fetch"' in page and 'hx-trigger="every 1s"' not in page
    assert screener.start_fetch(run)
