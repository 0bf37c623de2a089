"""Portfolio: holdings and positions per account through the emulator, merged views,
atomic replace, snapshots, refresh/command/beat, trading from holdings, square-off,
dashboard, isolation."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from brokers.angelone import AngelOneAdapter
from emulator.state import Fault, Lot
from marketdata import refresh
from orders.models import Order
from portfolio import summary
from portfolio.models import Holding, PortfolioSnapshot, PortfolioSync, Position
from portfolio.snapshots import snapshot_all
from portfolio.sync import portfolio_sync_account
from portfolio.tasks import end_of_day
from sigmatrader.models import SystemEvent
from sigmatrader.templatetags.money import inr
from tests.broker_peers import connected_account
from tests.test_order_lifecycle import WIRE, new, trading  # noqa: F401 (the fixture)

D = Decimal


def seed(peer, *, holdings=(), positions=()):
    """Put lots in the emulated broker's book: (symbol, qty, avg[, t1]) / (symbol, product, qty, avg)."""
    book = peer.user.book
    for symbol, quantity, average, *t1 in holdings:
        book.holdings[("NSE", symbol)] = Lot(
            "NSE", symbol, quantity, D(average), t1_quantity=t1[0] if t1 else 0
        )
    for symbol, product, quantity, average in positions:
        lot = Lot("NSE", symbol, quantity, D(average), product=product)
        if quantity > 0:
            lot.buy_quantity, lot.buy_value = quantity, D(average) * quantity
        else:
            lot.sell_quantity, lot.sell_value = -quantity, D(average) * -quantity
        book.positions[("NSE", symbol, product)] = lot


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


# --- Mapping --------------------------------------------------------------------------


def test_smartapi_holding_and_position_rows_with_strings_and_product_names():
    holding = AngelOneAdapter.map_holding(
        {
            "tradingsymbol": "TATASTEEL-EQ",
            "exchange": "NSE",
            "isin": "INE081A01020",
            "t1quantity": "3",
            "realisedquantity": "2",
            "quantity": "2",
            "product": "DELIVERY",
            "averageprice": "111.87",
            "ltp": "130.15",
            "symboltoken": "3499",
            "close": "129.6",
            "profitandloss": "36.56",
        }
    )
    assert holding.quantity == 5 and holding.t1_quantity == 3
    assert holding.average_price == D("111.87") and holding.close_price == D("129.6")
    assert holding.instrument.token == "3499"
    for name, product in (("INTRADAY", "MIS"), ("DELIVERY", "CNC"), ("CARRYFORWARD", "NRML")):
        position = AngelOneAdapter.map_position(
            {
                "exchange": "NSE",
                "symboltoken": "2885",
                "producttype": name,
                "tradingsymbol": "RELIANCE-EQ",
                "buyqty": "10",
                "sellqty": "4",
                "cfbuyqty": "0",
                "cfsellqty": "0",
                "netqty": "6",
                "avgnetprice": "2400.50",
                "buyavgprice": "2400.50",
                "sellavgprice": "2410.00",
                "ltp": "2420.00",
                "pnl": "155.00",
                "realised": "38.00",
                "unrealised": "117.00",
            }
        )
        assert str(position.product) == product
        assert position.quantity == 6 and position.day_buy_quantity == 10
        assert position.pnl == D("155.00") and position.sell_average == D("2410.00")


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


# --- Merged view arithmetic -----------------------------------------------------------


def test_merged_holding_weighs_the_average_price_and_adds_up(two_accounts):
    main, family, *_ = two_accounts
    rows = list(Holding.objects.filter(account__in=[main, family]))
    merged = {m.symbol: m for m in summary.merge_holdings(rows)}
    infy = merged["INFY"]
    assert len(infy.parts) == 2
    assert infy.quantity == 40 and infy.t1_quantity == 4
    # (10 x 1500 + 30 x 1600) / 40
    assert infy.average_price == D("1575")
    assert infy.invested == D("63000")
    last = {part.account_id: part.last_price for part in infy.parts}
    assert infy.current_value == last[main.pk] * 10 + last[family.pk] * 30
    assert infy.pnl == infy.current_value - D("63000")
    total = summary.totals(merged.values())
    assert total.invested == D("63000") + D("3000")  # + SBIN 5 x 600
    assert total.pnl == total.current_value - total.invested
    per_account = summary.totals(r for r in rows if r.account_id == main.pk)
    assert per_account.invested == D("18000")


def test_sort_and_filter():
    class Row:
        def __init__(self, symbol, pnl):
            self.symbol, self.pnl = symbol, D(pnl)

    rows = [Row("INFY", "5"), Row("SBIN", "-3"), Row("TCS", "9")]
    assert [r.symbol for r in summary.sort_and_filter(rows, sort="-pnl")] == ["TCS", "INFY", "SBIN"]
    assert [r.symbol for r in summary.sort_and_filter(rows, sort="pnl")] == ["SBIN", "INFY", "TCS"]
    assert [r.symbol for r in summary.sort_and_filter(rows, query="in")] == ["INFY", "SBIN"]
    assert [r.symbol for r in summary.sort_and_filter(rows, sort="nonsense")][0] == "INFY"


# --- Atomic replace --------------------------------------------------------------------


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


# --- Errors: broker failure, expired session ------------------------------------------


def test_a_broker_error_keeps_the_previous_rows_and_says_so(client, two_accounts):
    main, _, main_peer, _ = two_accounts
    main_peer.server.state.inject(
        WIRE["zerodha"], "holdings", Fault("server_error", status=503, times=5)
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
    main_peer.server.state.inject(WIRE["zerodha"], "holdings", Fault("expired_token"))
    client.force_login(main.user)
    response = client.post(
        reverse("portfolio:refresh", args=[main.pk]), {"page": "holdings"}, follow=True
    )
    page = response.content.decode()
    main.refresh_from_db()
    assert main.status == "expired"
    assert "Could not refresh from Zerodha · main: Session expired" in page
    assert "Reconnect in Settings" in page


# --- Pages ----------------------------------------------------------------------------


def test_holdings_page_per_account_and_all_accounts(
    client, two_accounts, django_assert_max_num_queries
):
    main, family, *_ = two_accounts
    client.force_login(main.user)
    page = client.get(reverse("portfolio:holdings") + f"?account={family.pk}").content.decode()
    assert "<title>Holdings — AngelOne · family" in page
    assert "SBIN" not in page and "INFY" in page and "(T1 4)" in page
    page = client.get(reverse("portfolio:holdings") + "?account=all").content.decode()
    assert "Holdings — All accounts" in page
    assert "2 accounts" in page  # INFY's breakdown
    assert "₹63,000.00" in page  # INFY invested across both
    # Filter and HTMX swap
    response = client.get(
        reverse("portfolio:holdings") + "?account=all&q=sbi", headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.startswith('<div id="portfolio-body">') and "SBIN" in body and "INFY" not in body
    with django_assert_max_num_queries(12):
        client.get(reverse("portfolio:holdings") + "?account=all")


def test_positions_page_and_square_off(client, two_accounts):
    main, family, _, family_peer = two_accounts
    client.force_login(main.user)
    page = client.get(reverse("portfolio:positions") + f"?account={family.pk}").content.decode()
    assert "Positions — AngelOne · family" in page and "TCS" in page and "MIS" in page
    position = Position.objects.get(account=family)
    response = client.post(
        reverse("portfolio:square-off", args=[position.pk]), {"account": family.pk}
    )
    assert response.status_code == 302
    order = Order.objects.get(account=family)
    assert (order.side, order.quantity, order.product, order.order_type) == (
        "SELL",
        3,
        "MIS",
        "MARKET",
    )
    assert order.status in ("SENT", "OPEN", "EXECUTED")
    placed = [o for o in family_peer.user.book.orders.values() if o.tag == order.client_tag]
    assert len(placed) == 1 and placed[0].side == "SELL"


def test_sell_from_a_holding_goes_to_that_accounts_queue_and_is_checked(client, two_accounts):
    main, family, *_ = two_accounts
    client.force_login(main.user)
    form = client.get(
        reverse("portfolio:holdings-trade")
        + f"?account={family.pk}&symbol=NSE:INFY&side=SELL&quantity=30"
    )
    assert form.status_code == 200 and 'value="30"' in form.content.decode()
    post = {
        "account": family.pk,
        "symbol": "NSE:INFY",
        "side": "SELL",
        "quantity": 31,
        "order_type": "MARKET",
        "product": "CNC",
        "then": "queue",
    }
    refused = client.post(reverse("portfolio:holdings-trade"), post)
    assert refused.status_code == 422
    assert "AngelOne · family holds 30 INFY" in refused.content.decode()
    assert not Order.objects.exists()
    post["quantity"] = 30
    response = client.post(reverse("portfolio:holdings-trade"), post)
    assert response.status_code == 302 and f"account={family.pk}" in response["Location"]
    order = Order.objects.get()
    assert (order.account, order.side, order.quantity, order.status, order.source) == (
        family,
        "SELL",
        30,
        "WAITING",
        "holdings",
    )


def test_buy_from_a_holding_sent_at_once_reaches_the_broker(client, two_accounts):
    main, _, main_peer, _ = two_accounts
    client.force_login(main.user)
    post = {
        "account": main.pk,
        "symbol": "NSE:SBIN",
        "side": "BUY",
        "quantity": 2,
        "order_type": "MARKET",
        "product": "CNC",
        "then": "send",
    }
    response = client.post(reverse("portfolio:holdings-trade"), post, follow=True)
    order = Order.objects.get()
    assert order.status in ("SENT", "OPEN", "EXECUTED") and order.account == main
    assert f"Order #{order.pk} sent to Zerodha · main" in response.content.decode()
    assert [o.tag for o in main_peer.user.book.orders.values()] == [order.client_tag]


# --- Command, beat, snapshots, dashboard ------------------------------------------------


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


def test_dashboard_tiles(client, two_accounts):
    main, family, *_ = two_accounts
    new(family, "INFY", quantity=1)
    new(family, "SBIN", quantity=1)
    client.force_login(main.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-account="Zerodha · main"' in page and 'data-account="AngelOne · family"' in page
    overall = sum(h.current_value for h in Holding.objects.all())
    family_value = sum(h.current_value for h in Holding.objects.filter(account=family))
    assert f'data-testid="overall-value">{inr(overall)}<' in page
    tile = page.split('data-account="AngelOne · family"')[1]
    assert inr(family_value) in tile
    assert "<dd>2</dd>" in tile  # waiting in the queue
    assert reverse("portfolio:holdings") + f"?account={family.pk}" in page


# --- Isolation --------------------------------------------------------------------------


def test_another_user_never_sees_or_touches_these(client, two_accounts, other_user):
    main, family, *_ = two_accounts
    snapshot_all()
    client.force_login(other_user)
    for url in (
        reverse("portfolio:holdings") + "?account=all",
        reverse("portfolio:positions") + "?account=all",
    ):
        page = client.get(url).content.decode()
        assert "INFY" not in page and "TCS" not in page and "family" not in page
    page = client.get(reverse("portfolio:holdings") + f"?account={family.pk}").content.decode()
    assert "INFY" not in page
    position = Position.objects.get(account=family)
    assert client.post(reverse("portfolio:square-off", args=[position.pk])).status_code == 404
    assert client.post(reverse("portfolio:refresh", args=[main.pk])).status_code == 404
    assert (
        client.get(reverse("portfolio:holdings-trade") + f"?account={main.pk}").status_code == 404
    )
    history = client.get(reverse("portfolio:holdings-history") + f"?account={main.pk}")
    assert history.status_code == 404
    page = client.get(reverse("dashboard")).content.decode()
    assert "family" not in page
    assert not Order.objects.exists()


def test_bad_trade_links_are_404_or_a_form_error_never_500(client, two_accounts):
    main, *_ = two_accounts
    client.force_login(main.user)
    assert client.get(reverse("portfolio:holdings-trade") + "?account=abc").status_code == 404
    assert client.get(reverse("portfolio:holdings-history") + "?account=abc").status_code == 404
    response = client.post(
        reverse("portfolio:holdings-trade"),
        {
            "account": main.pk,
            "symbol": "NSE:SBIN",
            "side": "BUY",
            "quantity": 10**30,
            "order_type": "MARKET",
            "product": "CNC",
            "then": "queue",
        },
    )
    assert response.status_code == 422
    assert "less than or equal to 10000000" in response.content.decode()
    response = client.post(
        reverse("portfolio:holdings-trade"),
        {
            "account": main.pk,
            "symbol": "NSE:NOSUCH",
            "side": "BUY",
            "quantity": 1,
            "order_type": "MARKET",
            "product": "CNC",
            "then": "queue",
        },
    )
    assert response.status_code == 422 and "NOSUCH" in response.content.decode()
    assert not Order.objects.exists()
