"""The market clock (marketdata.clock) and closed markets end to end (issue 12 item 1):
the emulator's own clock refuses regular orders like the real brokers and takes
AMO; paper queues from the queue; square-off offers a choice."""

from datetime import datetime
from decimal import Decimal

import pytest

from marketdata import clock, refresh
from orders.execution import create_order, execute
from orders.models import Order
from orders.sync import order_sync_account
from portfolio.models import Position
from portfolio.trading import MarketClosed, square_off
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account
from tests.orders.test_order_lifecycle import new

IST = clock.IST


@pytest.mark.parametrize(
    ("local", "exchange", "expected"),
    [
        (datetime(2026, 11, 25, 9, 14), "NSE", False),
        (datetime(2026, 11, 25, 9, 15), "NSE", True),
        (datetime(2026, 11, 25, 15, 29), "BSE", True),
        (datetime(2026, 11, 25, 15, 30), "NSE", False),
        (datetime(2026, 11, 25, 20, 0), "MCX", True),
        (datetime(2026, 11, 28, 11, 0), "NSE", False),  # a Saturday
        (datetime(2026, 11, 25, 3, 3), "NSE", False),  # the 03:03
        (datetime(2026, 11, 24, 11, 0), "NSE", False),  # Guru Nanak Jayanti: NSE holiday
        (datetime(2026, 11, 24, 11, 0), "NFO", False),
        (datetime(2026, 11, 24, 20, 0), "MCX", True),  # MCX holidays are not modelled
    ],
)
def test_exchange_clock(settings, local, exchange, expected):
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "exchange"
    moment = local.replace(tzinfo=IST)
    assert clock.is_open(exchange=exchange, moment=moment) is expected


def test_the_setting_chooses_the_clock(settings):
    at_night = datetime(2026, 11, 25, 3, 3, tzinfo=IST)
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-open"
    assert clock.is_open(moment=at_night)
    settings.MARKET_CLOCK = "always-closed"
    assert not clock.is_open(moment=datetime(2026, 11, 25, 11, 0, tzinfo=IST))
    settings.MARKET_CLOCK = "exchange"
    settings.MARKET_ALWAYS_OPEN = True  # the older spelling still works
    assert clock.is_open(moment=at_night)


def test_holidays_come_from_the_nse_calendar_and_the_settings_correct_it(settings):
    from datetime import date

    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "exchange"
    holi = date(2026, 3, 3)
    assert clock.holiday_name(holi) == "Holi"
    assert not clock.is_trading_day(holi)
    assert clock.previous_trading_day(date(2026, 3, 4)) == date(2026, 3, 2)
    # Good Friday 3 Apr 2026, then a weekend: Monday's previous trading day is Thursday.
    assert clock.previous_trading_day(date(2026, 4, 6)) == date(2026, 4, 2)
    assert clock.trading_days(date(2026, 3, 2), date(2026, 3, 6)) == [
        date(2026, 3, 2),
        date(2026, 3, 4),
        date(2026, 3, 5),
        date(2026, 3, 6),
    ]
    # The exchange announces a closure the calendar lacks, and a special Saturday session.
    settings.EXCHANGE_HOLIDAYS_EXTRA = ["2026-03-05"]
    settings.EXCHANGE_TRADING_DAYS_EXTRA = ["2026-03-07", "2026-03-03"]
    assert not clock.is_trading_day(date(2026, 3, 5))
    assert clock.is_trading_day(date(2026, 3, 7))  # a Saturday
    assert clock.is_trading_day(holi)  # declared a trading day after all
    assert clock.is_open(moment=datetime(2026, 3, 7, 10, 0, tzinfo=IST))
    assert not clock.is_open(moment=datetime(2026, 3, 5, 10, 0, tzinfo=IST))


def test_the_closed_message_names_the_holiday(settings):
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "exchange"
    text = clock.hours_text("NSE", moment=datetime(2026, 11, 24, 11, 0, tzinfo=IST))
    assert text.endswith("today is an exchange holiday: Guru Nanak Jayanti")
    assert "holiday" not in clock.hours_text("NSE", moment=datetime(2026, 11, 25, 8, 0, tzinfo=IST))


def test_bad_holiday_settings_stop_the_start(monkeypatch, tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "x" * 50,
        "SIGMATRADER_VAR_DIR": str(tmp_path),
        "SIGMATRADER_ENV_FILE": str(tmp_path / "none.env"),
        "EXCHANGE_HOLIDAYS_EXTRA": "2026-13-01",
        "DJANGO_SETTINGS_MODULE": "sigmatrader.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "EXCHANGE_HOLIDAYS_EXTRA: '2026-13-01' is not a date" in done.stderr


@pytest.fixture(params=["zerodha", "angelone"])
def closed_broker(request, emulator, user, settings):
    """The app's clock says open (it asks the broker); the emulated exchange is closed."""
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-open"
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    account, peer = connected_account(emulator, user, request.param, "main")
    refresh.refresh_instruments(broker=request.param)
    emulator.state.market.set_price("NSE", "SBIN", "800")
    emulator.state.set_market("closed")
    yield account, peer
    emulator.state.set_market("open")


def test_closed_emulator_refuses_regular_orders_and_takes_amo(closed_broker):
    account, peer = closed_broker
    regular = execute(order=new(account), actor="alice")
    assert regular.status == "REJECTED"
    assert "closed" in regular.status_message.lower()
    amo = execute(order=new(account, variety="AMO"), actor="alice")
    assert amo.status == "SENT"
    order_sync_account(account)
    amo.refresh_from_db()
    assert amo.status in ("SENT", "OPEN")  # waiting at the broker for the open
    peer.server.state.set_market("open")
    order_sync_account(account)
    amo.refresh_from_db()
    assert amo.status == "EXECUTED" and amo.average_price == Decimal("800")


@pytest.fixture
def paper_account(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    live, _ = connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    emulator.state.market.set_price("NSE", "SBIN", "800")
    account = connected_paper_account(user)
    refresh.refresh_instruments(broker="paper")
    return account


def _buy_sbin(account):
    order = create_order(
        user=account.user, account=account, symbol="NSE:SBIN", side="BUY", quantity=1, actor="a"
    )
    return execute(order=order, actor="alice")


def test_paper_when_closed_queue_is_reachable_from_the_queue(paper_account, settings):
    settings.PAPER_WHEN_CLOSED = "queue"
    order = _buy_sbin(paper_account)
    assert order.status == "SENT", order.status_message  # resting at paper until the open
    settings.PAPER_WHEN_CLOSED = "reject"
    again = _buy_sbin(paper_account)
    assert again.status == "FAILED" and "market is closed" in again.status_message


def _position(account, instrument, quantity=5):
    return Position.objects.create(
        account=account,
        instrument=instrument,
        exchange="NSE",
        symbol=instrument.canonical_symbol,
        broker_symbol=instrument.trading_symbol,
        product="MIS",
        quantity=quantity,
        average_price=Decimal("800"),
        last_price=Decimal("800"),
        pnl=Decimal("0"),
    )


def test_square_off_in_a_closed_market_offers_amo_or_the_queue(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    account, peer = connected_account(emulator, user, "zerodha", "main")
    refresh.refresh_instruments(broker="zerodha")
    instrument = new(account).instrument
    Order.objects.all().delete()
    position = _position(account, instrument)
    with pytest.raises(MarketClosed) as closed:
        square_off(user=user, position=position, actor="alice")
    assert closed.value.closed.amo
    assert not Order.objects.exists()  # nothing written before the trader chooses
    queued = square_off(user=user, position=position, actor="alice", when_closed="queue")
    assert queued.status == "WAITING" and queued.variety == "REGULAR"
    amo = square_off(user=user, position=position, actor="alice", when_closed="amo")
    assert amo.status == "SENT" and amo.variety == "AMO"
    assert peer.user.book.orders[amo.broker_order_id].variety == "amo"


def test_the_next_intraday_end_skips_weekends_and_holidays(settings):
    from datetime import time

    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "exchange"
    at = time(15, 20)
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=IST)
    assert clock.next_intraday_end(friday, at=at) == datetime(2026, 11, 23, 15, 20, tzinfo=IST)
    before_holiday = datetime(2026, 11, 23, 15, 30, tzinfo=IST)  # Tue 24 is Guru Nanak Jayanti
    assert clock.next_intraday_end(before_holiday, at=at) == datetime(
        2026, 11, 25, 15, 20, tzinfo=IST
    )
    morning = datetime(2026, 11, 25, 9, 0, tzinfo=IST)
    assert clock.next_intraday_end(morning, at=at) == datetime(2026, 11, 25, 15, 20, tzinfo=IST)


def test_with_the_always_open_clock_the_intraday_day_ends_at_midnight(settings):
    """The demo trades at any hour: an MIS exit placed at 16:00 must not end at once."""
    from datetime import time

    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-open"
    at_four = datetime(2026, 11, 24, 16, 0, tzinfo=IST)  # a holiday, after 15:20
    assert clock.next_intraday_end(at_four, at=time(15, 20)) == datetime(
        2026, 11, 25, 0, 0, tzinfo=IST
    )
