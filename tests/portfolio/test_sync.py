"""Portfolio sync (portfolio/sync.py) through the emulator: each broker's rows in the
common vocabulary, an atomic replace, broker errors and expired sessions, the command,
the beat task and the snapshots."""

import threading
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from emulator.state import Fault
from marketdata import refresh
from portfolio.models import Holding, PortfolioSnapshot, PortfolioSync, Position
from portfolio.snapshots import snapshot_all
from portfolio.sync import portfolio_sync_account
from portfolio.tasks import end_of_day
from sigmatrader.models import SystemEvent
from tests.brokers.peers import connected_account
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.portfolio.helpers import D, seed


def test_sync_maps_each_brokers_rows_into_the_common_vocabulary(trading):  # noqa: F811
    account, peer = trading
    seed(peer, holdings=[("INFY", 12, "1500.50", 2)], positions=[("SBIN", "MIS", -5, "610")])
    result = portfolio_sync_account(account)
    assert result.ok and (result.holdings, result.positions) == (1, 1)
    holding = Holding.objects.get(account=account)
    # Canonical symbol whatever the broker calls it (AngelOne: INFY-EQ).
    assert holding.symbol == "INFY" and holding.exchange == "NSE"
    assert holding.instrument.broker == account.broker
    assert holding.quantity == 12 and holding.t1_quantity == 2
    assert holding.average_price == D("1500.50")
    assert holding.close_price is not None
    assert holding.day_change == holding.last_price - holding.close_price
    assert holding.pnl == (holding.last_price - holding.average_price) * 12
    position = Position.objects.get(account=account)
    assert (position.symbol, position.product, position.quantity) == ("SBIN", "MIS", -5)
    assert position.sell_quantity == 5 and position.sell_average == D("610")
    state = PortfolioSync.objects.get(account=account)
    assert state.synced_at is not None and state.error == ""
    assert state.available_cash == peer.user.book.cash - peer.user.book.used_margin


@pytest.mark.django_db(transaction=True)
def test_a_reader_during_sync_never_sees_the_account_empty(emulator, user, settings):
    account, peer = connected_account(emulator, user, "zerodha", "main")
    refresh.refresh_instruments(broker="zerodha")
    symbols = ["INFY", "SBIN", "TCS", "RELIANCE", "HDFCBANK"]
    seed(peer, holdings=[(s, 5, "100") for s in symbols])
    assert portfolio_sync_account(account).holdings == 5
    seen, stop = [], threading.Event()

    def read():
        try:
            while not stop.is_set():
                seen.append(Holding.objects.filter(account=account).count())
        finally:
            connections.close_all()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(15):
            assert portfolio_sync_account(account).ok
    finally:
        stop.set()
        reader.join(timeout=30)
    assert len(seen) > 20
    assert set(seen) == {5}


def test_a_broker_error_keeps_the_previous_rows_and_says_so(client, two_accounts):
    main, _, main_peer, _ = two_accounts
    main_peer.server.state.inject(
        main_peer.wire, "holdings", Fault("server_error", status=503, times=5)
    )
    result = portfolio_sync_account(main)
    assert not result.ok and not result.expired
    assert Holding.objects.filter(account=main).count() == 2  # still the last good set
    assert PortfolioSync.objects.get(account=main).error == result.error
    assert SystemEvent.objects.filter(message__contains="Portfolio sync of Zerodha · main failed")
    client.force_login(main.user)
    page = client.get(reverse("portfolio:holdings") + f"?account={main.pk}").content.decode()
    assert "Last refresh failed" in page and "INFY" in page


def test_an_expired_session_marks_the_account_and_the_page_says_reconnect(client, two_accounts):
    main, *_ = two_accounts
    main_peer = two_accounts[2]
    main_peer.server.state.inject(main_peer.wire, "holdings", Fault("expired_token"))
    client.force_login(main.user)
    response = client.post(
        reverse("portfolio:refresh", args=[main.pk]), {"page": "holdings"}, follow=True
    )
    page = response.content.decode()
    main.refresh_from_db()
    assert main.status == "expired"
    assert "Could not refresh from Zerodha · main: Session expired" in page
    assert "Reconnect in Settings" in page


def test_command_task_schedule_and_snapshots(two_accounts, capsys):
    main, family, main_peer, _ = two_accounts
    seed(main_peer, holdings=[("TCS", 1, "3000")])
    call_command("sync_portfolio", "--account", str(main.pk))
    assert "3 holdings" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("sync_portfolio", "--account", "999999")
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"portfolio.sync_portfolio", "portfolio.end_of_day"} <= tasks
    result = end_of_day()
    assert result == {"synced": 2, "snapshots": 2}
    snapshot = PortfolioSnapshot.objects.get(account=main, date=timezone.localdate())
    assert {row["symbol"] for row in snapshot.holdings} == {"INFY", "SBIN", "TCS"}
    assert snapshot.invested == D("15000") + D("3000") + D("3000")
    assert snapshot_all(date(2026, 1, 2)) == 2 and snapshot_all(date(2026, 1, 2)) == 2
    assert PortfolioSnapshot.objects.filter(account=main).count() == 2  # one per day
