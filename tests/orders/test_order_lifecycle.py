"""Orders through the real clients against the emulator: life cycle, exactly once,
ambiguous answers reconciled by tag, failures that leave nothing at the broker."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from emulator import Fault
from marketdata import refresh
from orders import actions
from orders.execution import NotExecutable, create_order, execute
from orders.models import Order, OrderEvent
from orders.sync import order_sync_account
from sigmatrader.models import SystemEvent
from tests.brokers.peers import connected_account


@pytest.fixture(params=["zerodha", "angelone"])
def trading(request, emulator, user, settings):
    """A connected account of each broker, its instruments loaded, market open."""
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    broker = request.param
    account, peer = connected_account(emulator, user, broker, "main")
    refresh.refresh_instruments(broker=broker)
    return account, peer


def new(account, symbol="SBIN", **fields):
    fields.setdefault("side", "BUY")
    fields.setdefault("quantity", 2)
    return create_order(
        user=account.user, account=account, symbol=f"NSE:{symbol}", actor="alice", **fields
    )


def placed(peer):
    return peer.server.state.count(peer.wire, "place")


def test_queue_execute_sync_executed_with_fills(trading):
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "810.50")
    order = new(account)
    assert order.status == "WAITING" and order.instrument.broker == account.broker
    order = execute(order=order, actor="alice")
    assert order.status == "SENT" and order.broker_order_id
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED"
    assert order.filled_quantity == 2 and order.average_price == Decimal("810.50")
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[0] == "created" and "risk" in kinds and "broker" in kinds and kinds[-1] == "sync"


def test_rejected_with_the_brokers_reason_and_a_system_event(trading, user):
    account, peer = trading
    peer.server.state.market.set_price("NSE", "TCS", "4000")
    order = execute(order=new(account, "TCS", quantity=1000), actor="alice")
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "REJECTED" and "Insufficient funds" in order.status_message
    assert SystemEvent.objects.filter(user=user, category="order", message__contains="rejected")


def test_cancelled_at_the_broker(trading):
    account, peer = trading
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    order = execute(
        order=new(account, "INFY", order_type="LIMIT", price=Decimal("1400")), actor="alice"
    )
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "OPEN"
    actions.cancel(order=order, actor="alice")
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "CANCELLED"


def test_modify_an_open_order_at_the_broker(trading):
    account, peer = trading
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    order = execute(
        order=new(account, "INFY", order_type="LIMIT", price=Decimal("1400")), actor="alice"
    )
    actions.modify(order=order, actor="alice", price=Decimal("1450"))
    remote = peer.user.book.orders[order.broker_order_id]
    assert remote.price == Decimal("1450") and order.price == Decimal("1450")


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_executes_place_one_broker_order(trading):
    account, peer = trading
    order = new(account, "ITC")
    outcomes, barrier = [], threading.Barrier(10)

    def worker():
        try:
            barrier.wait()
            outcomes.append(execute(order=Order.objects.get(pk=order.pk), actor="race").status)
        except NotExecutable:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["SENT"] + ["refused"] * 9
    assert placed(peer) == 1
    assert len([o for o in peer.user.book.orders.values() if o.tag == order.client_tag]) == 1


def test_answer_lost_after_acceptance_is_unknown_then_reconciled_by_tag(trading):
    account, peer = trading
    peer.server.state.inject(peer.wire, "place", Fault("drop_after_accept", seconds=2.5))
    order = execute(order=new(account, "WIPRO"), actor="alice")
    assert order.status == "UNKNOWN" and not order.broker_order_id
    with pytest.raises(NotExecutable):
        execute(order=order, actor="alice")  # never resent
    order_sync_account(account)
    order.refresh_from_db()
    remote = [o for o in peer.user.book.orders.values() if o.tag == order.client_tag]
    assert len(remote) == 1 and placed(peer) == 1
    assert order.broker_order_id == remote[0].order_id and order.status == "EXECUTED"


def test_server_error_on_placement_ends_failed_with_nothing_at_the_broker(trading):
    account, peer = trading
    peer.server.state.inject(peer.wire, "place", Fault("server_error", status=500))
    order = execute(order=new(account, "ONGC"), actor="alice")
    assert order.status == "UNKNOWN"  # a 5xx may or may not have been processed...
    order_sync_account(account)  # ...so the order book decides
    order.refresh_from_db()
    assert order.status == "FAILED" and order.status_message == "Not received by the broker."
    assert not any(o.tag == order.client_tag for o in peer.user.book.orders.values())


def test_brokers_rate_limit_on_placement_is_waited_out(trading, settings):
    account, peer = trading
    settings.BROKER_RATE_LIMIT_MAX_WAIT = 3
    peer.server.state.inject(peer.wire, "place", Fault("rate_limit"))
    order = execute(order=new(account, "NTPC"), actor="alice")
    assert order.status == "SENT"
    assert placed(peer) == 2  # refused once (not processed), then accepted
    assert len([o for o in peer.user.book.orders.values() if o.tag == order.client_tag]) == 1


def test_expired_session_fails_the_order_and_expires_the_account(trading, user):
    account, peer = trading
    order = new(account, "SBIN", order_type="LIMIT", price=Decimal("100"))
    peer.server.state.expire_sessions(peer.user)
    order = execute(order=order, actor="alice")
    assert order.status == "FAILED" and f"reconnect {account.display_name}" in order.status_message
    account.refresh_from_db()
    assert account.status == "expired"
    assert SystemEvent.objects.filter(user=user, message__contains="session expired")
    assert not peer.user.book.orders  # refused at the door: nothing placed


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"order_type": "LIMIT"}, "needs a price above 0"),
        (
            {"order_type": "LIMIT", "price": Decimal("100.03")},
            "not a multiple of the tick size 0.05",
        ),
        ({"order_type": "SL-M"}, "needs a trigger price above 0"),
        (
            {"order_type": "SL", "price": Decimal("100"), "trigger_price": Decimal("101")},
            "trigger price cannot be above the price",
        ),
    ],
)
def test_invalid_orders_fail_before_sending_and_can_be_retried(trading, fields, message):
    account, peer = trading
    # check=False: as a TradingView alert's order is kept; execution applies the rules again.
    order = execute(order=new(account, check=False, **fields), actor="alice")
    assert order.status == "FAILED" and message in order.status_message
    assert placed(peer) == 0
    Order.objects.filter(pk=order.pk).update(order_type="MARKET", price=None, trigger_price=None)
    order.refresh_from_db()
    assert execute(order=order, actor="alice").status == "SENT"  # FAILED may be edited and retried


def test_market_closed_needs_amo(trading, settings):
    account, peer = trading
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    order = execute(order=new(account), actor="alice")
    assert order.status == "FAILED" and "market is closed" in order.status_message
    assert "Send it as AMO" in order.status_message
    amo = execute(order=new(account, variety="AMO"), actor="alice")
    assert amo.status == "SENT"
    remote = peer.user.book.orders[amo.broker_order_id]
    assert remote.variety.lower() == "amo"


def test_every_step_is_in_the_history(trading):
    account, _ = trading
    order = execute(order=new(account), actor="alice")
    events = list(OrderEvent.objects.filter(order=order))
    transitions = [(e.from_status, e.to_status) for e in events if e.to_status]
    assert transitions == [("WAITING", "SENDING"), ("SENDING", "SENT")]
    assert all(e.actor == "alice" for e in events)
