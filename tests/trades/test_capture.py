"""Capturing fills from each broker's trade book (the real clients against the
emulator; paper from its own book): idempotent, linked to orders, days recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from brokers.base import InstrumentRef, OrderRequest, OrderType, Product, Side
from brokers.connections import adapter_for
from marketdata import clock
from orders.models import Order
from orders.signals import order_filled
from portfolio.models import Holding
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account
from trades import capture
from trades.models import CapturedDay, OpeningLot, RoundTrip, Trade

pytestmark = pytest.mark.django_db

BROKERS = ["zerodha", "angelone", "paper"]


@pytest.fixture
def trading(emulator, user, settings, request):
    """(account, ref of SBIN at its broker) with the market open on the emulator."""
    from marketdata import refresh

    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    emulator.state.market.set_price("NSE", "SBIN", "800")
    broker = request.param
    if broker == "paper":
        connected_account(emulator, user, "angelone", "live")
        refresh.refresh_instruments(broker="angelone")
        return connected_paper_account(user), InstrumentRef("NSE", "SBIN"), emulator
    account, peer = connected_account(emulator, user, broker, broker)
    return account, peer.ref("SBIN"), emulator


def place(account, ref, side, quantity, tag, product=Product.CNC) -> str:
    return adapter_for(account).place_order(
        OrderRequest(
            instrument=ref,
            side=Side(side),
            quantity=quantity,
            order_type=OrderType.MARKET,
            product=product,
            tag=tag,
        )
    )


@pytest.mark.parametrize("trading", BROKERS, indirect=True)
def test_the_same_book_twice_adds_nothing(trading, user):
    account, ref, emulator = trading
    bought = place(account, ref, "BUY", 3, "CAPB1", Product.MIS)
    order = Order.objects.create(
        user=user,
        account=account,
        account_name=account.display_name,
        symbol="SBIN",
        exchange="NSE",
        side="BUY",
        quantity=3,
        product="MIS",
        status=Order.Status.EXECUTED,
        broker_order_id=bought,
        filled_quantity=3,
    )
    emulator.state.market.set_price("NSE", "SBIN", "810")
    place(account, ref, "SELL", 3, "CAPS1", Product.MIS)

    first = capture.capture_account(account)
    assert first.error == "" and first.added == 2
    rows = {t.side: t for t in Trade.objects.filter(account=account)}
    assert rows["BUY"].order == order and rows["BUY"].quantity == 3
    assert rows["BUY"].price == Decimal("800") and rows["SELL"].price == Decimal("810")
    assert rows["SELL"].order is None  # placed outside the app: no order to link
    assert not rows["BUY"].time_estimated  # every broker gives the fill's time
    assert CapturedDay.objects.filter(account=account, day=clock.india_today()).exists()
    [trip] = RoundTrip.objects.filter(account=account)
    assert trip.gross == Decimal("30") and trip.classification == "INTRADAY"
    assert trip.strategy == "Manual"  # the opening order's source

    again = capture.capture_account(account)
    assert again.error == "" and again.read == 2 and again.added == 0
    assert Trade.objects.filter(account=account).count() == 2
    assert RoundTrip.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("trading", BROKERS, indirect=True)
def test_a_crash_between_two_captures_adds_nothing_twice(trading, monkeypatch):
    account, ref, _ = trading
    place(account, ref, "BUY", 2, "CRASH1")
    # The first read dies after its fills are stored but before they are matched.
    real = capture.services.rebuild

    def crash(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(capture.services, "rebuild", crash)
    with pytest.raises(RuntimeError):
        capture.capture_account(account)
    assert Trade.objects.filter(account=account).count() == 1
    assert not RoundTrip.objects.exists()

    monkeypatch.setattr(capture.services, "rebuild", real)
    assert capture.capture_account(account).added == 0  # the same book: nothing twice
    place(account, ref, "SELL", 2, "CRASH2")
    result = capture.capture_account(account)
    assert result.added == 1 and Trade.objects.filter(account=account).count() == 2
    assert RoundTrip.objects.filter(account=account).count() == 1  # matched after all


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_end_of_day_rebuilds_what_a_crash_left_unmatched(trading, monkeypatch):
    from trades.tasks import end_of_day

    account, ref, _ = trading
    place(account, ref, "BUY", 2, "EOD1")
    capture.capture_account(account)
    place(account, ref, "SELL", 2, "EOD2")
    monkeypatch.setattr(capture.services, "rebuild", lambda **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        capture.capture_account(account)
    monkeypatch.undo()
    assert not RoundTrip.objects.exists()
    assert end_of_day() == {str(account.pk): "0 new of 2"}
    assert RoundTrip.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_a_crash_inside_the_write_leaves_nothing_half_written(trading, monkeypatch):
    account, ref, _ = trading
    place(account, ref, "BUY", 2, "HALF1")

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(capture, "mark_captured", crash)
    with pytest.raises(RuntimeError):
        capture.capture_account(account)
    assert not Trade.objects.exists() and not CapturedDay.objects.exists()
    monkeypatch.undo()
    assert capture.capture_account(account).added == 1


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_first_capture_takes_stored_holdings_as_opening_lots(trading, user):
    account, ref, _ = trading
    Holding.objects.create(
        account=account,
        symbol="INFY",
        broker_symbol="INFY",
        exchange="NSE",
        quantity=10,
        average_price=Decimal("1400"),
        last_price=Decimal("1500"),
        pnl=Decimal("1000"),
    )
    capture.capture_account(account)
    [lot] = OpeningLot.objects.filter(account=account)
    assert (lot.symbol, lot.quantity, lot.average_price) == ("INFY", 10, Decimal("1400"))
    assert lot.as_of == clock.india_today()
    Holding.objects.filter(account=account).update(quantity=99)
    capture.capture_account(account)  # only the first read seeds
    assert OpeningLot.objects.get(account=account).quantity == 10


@pytest.mark.parametrize("trading", ["paper"], indirect=True)
def test_a_paper_reset_forgets_the_accounts_fills(trading):
    from brokers import connections

    account, ref, _ = trading
    place(account, ref, "BUY", 2, "RESET1")
    capture.capture_account(account)
    assert Trade.objects.filter(account=account).exists()
    connections.reset(account=account)
    assert not Trade.objects.filter(account=account).exists()
    assert not CapturedDay.objects.filter(account=account).exists()
    assert capture.capture_account(account).read == 0  # the book is empty too


def test_a_fill_queues_one_capture_per_window(user, monkeypatch):
    queued = []
    monkeypatch.setattr(capture, "enqueue", lambda *a, **k: queued.append((a, k)))
    order_filled.send(sender=Order, account_id=41)
    order_filled.send(sender=Order, account_id=41)
    order_filled.send(sender=Order, account_id=42)
    assert [a for a, _ in queued] == [
        ("trades.capture_account", 41),
        ("trades.capture_account", 42),
    ]


def test_missed_trading_days_are_found(user):
    from brokers import accounts

    account = accounts.create_account(
        user=user, broker="paper", label="p", credentials={"starting_cash": "1000"}
    )
    # Mon 3 Nov .. Fri 14 Nov 2025; captured Mon, Tue, Thu, and (by import) Mon 10.
    # Wed 5 Nov 2025 was an NSE holiday (Guru Nanak Jayanti): not a missed day.
    for day, via in [(3, "trade_book"), (4, "trade_book"), (6, "trade_book"), (10, "import")]:
        CapturedDay.objects.create(account=account, day=date(2025, 11, day), via=via)
    missed = capture.missed_days(account, until=date(2025, 11, 14))
    assert missed == [date(2025, 11, d) for d in (7, 11, 12, 13, 14)]  # no weekend, no holiday


def test_today_is_missed_only_once_its_end_of_day_read_is_due(user, monkeypatch):
    from datetime import datetime

    from django.utils import timezone

    from brokers import accounts
    from marketdata.clock import IST

    account = accounts.create_account(
        user=user, broker="paper", label="p", credentials={"starting_cash": "1000"}
    )
    CapturedDay.objects.create(account=account, day=date(2025, 11, 3))  # Monday
    at = {"now": datetime(2025, 11, 4, 15, 45, tzinfo=IST)}  # Tuesday, after the close
    monkeypatch.setattr(timezone, "now", lambda: at["now"])
    assert capture.missed_days(account) == []
    at["now"] = datetime(2025, 11, 4, 16, 45, tzinfo=IST)  # the 15:50 read did not happen
    assert capture.missed_days(account) == [date(2025, 11, 4)]
