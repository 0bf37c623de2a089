"""After a fill: positions refreshed at once (order sync → portfolio), exits
never oversell, realised/unrealised split like the brokers, today's delivery
buys in positions only (not holdings), and the dashboard's day P&L counting
each share's day move once. Through the emulator and the real clients."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from emulator.demo import demo_state
from orders.execution import execute
from orders.sync import order_sync_account
from portfolio.dashboard import dashboard_for
from portfolio.models import Holding, Position
from portfolio.sync import portfolio_sync_account
from portfolio.trading import TradeRefused, square_off
from sigmatrader.celery import app as celery_app
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)

D = Decimal


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def buy_infy(account, peer, capture, quantity=15, price="1501.92"):
    peer.server.state.market.set_price("NSE", "INFY", price)
    order = execute(order=new(account, "INFY", quantity=quantity, product="CNC"), actor="alice")
    with capture(execute=True):
        order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED"
    return order


def test_a_fill_refreshes_positions_and_two_quick_exits_never_oversell(
    trading,  # noqa: F811
    eager,
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    state = peer.server.state
    # The buy's fill, seen by order sync, brings the position in without a portfolio sync.
    buy_infy(account, peer, django_capture_on_commit_callbacks)
    position = Position.objects.get(account=account, symbol="INFY")
    assert (position.product, position.quantity) == ("CNC", 15)

    state.market.set_price("NSE", "INFY", "1485.75")
    exit_order = square_off(user=account.user, position=position, actor="alice", quantity=5)
    assert exit_order.status in ("SENT", "OPEN")
    # The position still says 15 (not synced since), but 5 are already on their way out.
    with pytest.raises(TradeRefused, match="at most 10"):
        square_off(user=account.user, position=position, actor="alice", quantity=15)

    cache.clear()  # the buy's refresh window is over
    with django_capture_on_commit_callbacks(execute=True):
        order_sync_account(account)
    exit_order.refresh_from_db()
    assert exit_order.status == "EXECUTED"
    position = Position.objects.get(account=account, symbol="INFY")
    assert position.quantity == 10
    # The fresh position knows the exit; still 10 may go, not 10 more than that.
    with pytest.raises(TradeRefused):
        square_off(user=account.user, position=position, actor="alice", quantity=11)


def test_refreshes_are_debounced_per_account(trading, eager, django_capture_on_commit_callbacks):  # noqa: F811
    account, peer = trading
    state = peer.server.state
    buy_infy(account, peer, django_capture_on_commit_callbacks)
    wire = peer.wire
    calls = state.count(wire, "positions")
    # A second fill inside the window queues nothing more.
    buy_infy(account, peer, django_capture_on_commit_callbacks, quantity=1)
    assert state.count(wire, "positions") == calls
    cache.clear()
    buy_infy(account, peer, django_capture_on_commit_callbacks, quantity=1)
    assert state.count(wire, "positions") == calls + 1
    assert Position.objects.get(account=account, symbol="INFY").quantity == 17


def test_realised_and_unrealised_after_a_partial_exit(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    state = peer.server.state
    buy_infy(account, peer, django_capture_on_commit_callbacks)
    assert portfolio_sync_account(account).ok
    state.market.set_price("NSE", "INFY", "1485.75")
    position = Position.objects.get(account=account, symbol="INFY")
    square_off(user=account.user, position=position, actor="alice", quantity=5)
    state.market.set_price("NSE", "INFY", "1460.80")
    assert portfolio_sync_account(account).ok
    position = Position.objects.get(account=account, symbol="INFY")
    assert position.quantity == 10 and position.average_price == D("1501.92")
    # 5 × (1,485.75 − 1,501.92) booked; 10 × (1,460.80 − 1,501.92) still open.
    assert position.realised == D("-80.85")
    assert position.unrealised == D("-411.20")
    assert position.pnl == D("-492.05")


def test_todays_delivery_buys_are_positions_not_holdings_until_settled(
    trading,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    state = peer.server.state
    buy_infy(account, peer, django_capture_on_commit_callbacks, quantity=4, price="1500")
    assert portfolio_sync_account(account).ok
    assert not Holding.objects.filter(account=account).exists()
    position = Position.objects.get(account=account, symbol="INFY")
    assert position.quantity == 4
    state.market.set_price("NSE", "INFY", "1510")
    assert portfolio_sync_account(account).ok
    tile = dashboard_for(account.user).accounts[0]
    # Day P&L: the day buy's M2M alone (4 × 10), not again as a holding's day change.
    assert tile.day_pnl == D("40.00")

    state.settle()  # the next day: a T1 holding, no day position
    assert portfolio_sync_account(account).ok
    holding = Holding.objects.get(account=account, symbol="INFY")
    assert holding.quantity == 4 and holding.t1_quantity == 4
    assert holding.average_price == D("1500.00")
    assert not Position.objects.filter(account=account).exists()
    # A delivery sale of a settled holding still goes through.
    order = execute(
        order=new(account, "INFY", side="SELL", quantity=4, product="CNC"), actor="alice"
    )
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED"


def test_the_demo_world_starts_with_delivered_holdings_and_no_day_positions():
    state = demo_state("http://127.0.0.1:8000")
    for book in state._books():
        assert book.positions == {}
        assert {lot.symbol: (lot.quantity, lot.t1_quantity) for lot in book.holdings.values()} == {
            "SBIN": (40, 0),
            "INFY": (12, 0),
            "ITC": (150, 0),
            "RELIANCE": (5, 0),
        }


def test_an_exit_already_sent_counts_against_the_next_one(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    buy_infy(account, peer, django_capture_on_commit_callbacks)
    assert portfolio_sync_account(account).ok
    position = Position.objects.get(account=account, symbol="INFY")
    first = square_off(user=account.user, position=position, actor="alice", quantity=5)
    assert first.status in ("SENT", "OPEN")
    with pytest.raises(TradeRefused, match="exit orders already sent for 5: at most 10"):
        square_off(user=account.user, position=position, actor="alice", quantity=11)
    # Filled but not yet in the synced position: still counted.
    order_sync_account(account)
    first.refresh_from_db()
    assert first.status == "EXECUTED"
    with pytest.raises(TradeRefused, match="at most 10"):
        square_off(user=account.user, position=position, actor="alice", quantity=15)
    second = square_off(user=account.user, position=position, actor="alice", quantity=10)
    order_sync_account(account)
    second.refresh_from_db()
    assert second.status == "EXECUTED"
    assert portfolio_sync_account(account).ok
    assert Position.objects.get(account=account, symbol="INFY").quantity == 0


def test_a_sale_out_of_holdings_today_counts_each_shares_day_move_once(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    state = peer.server.state
    buy_infy(account, peer, django_capture_on_commit_callbacks, quantity=10, price="1500")
    state.settle()
    state.settle()  # 10 delivered, bought days ago
    inst = state.market.get("NSE", "INFY")
    state.market.closes[inst.key] = D("1480")  # yesterday's close
    state.market.set_price("NSE", "INFY", "1490")
    sale = execute(
        order=new(account, "INFY", side="SELL", quantity=4, product="CNC"), actor="alice"
    )
    order_sync_account(account)
    sale.refresh_from_db()
    assert sale.status == "EXECUTED"
    state.market.set_price("NSE", "INFY", "1470")
    assert portfolio_sync_account(account).ok
    # The holding keeps its quantity until settlement; the sale is a -4 delivery position.
    assert Holding.objects.get(account=account, symbol="INFY").quantity == 10
    assert Position.objects.get(account=account, symbol="INFY").quantity == -4
    tile = dashboard_for(account.user).accounts[0]
    # 6 still held: 6 × (1,470 − 1,480); 4 sold at 1,490: 4 × (1,490 − 1,480).
    assert tile.day_pnl == D("-20.00")
    # What may still be sold: 6, at the app's check and at the broker.
    from portfolio.selectors import held_quantity

    assert held_quantity(account, "INFY", "NSE") == 6
    too_many = execute(
        order=new(account, "INFY", side="SELL", quantity=7, product="CNC"), actor="alice"
    )
    order_sync_account(account)
    too_many.refresh_from_db()
    assert too_many.status == "REJECTED"
    state.settle()
    assert portfolio_sync_account(account).ok
    assert Holding.objects.get(account=account, symbol="INFY").quantity == 6
