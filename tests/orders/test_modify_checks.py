"""Modify: new values are checked like a new order's before any broker call, and
the broker's answer is in the order's history whatever happens afterwards."""

from decimal import Decimal

import pytest
from django.db import connection

from emulator import Fault
from orders import actions
from orders.execution import execute
from orders.models import Order
from orders.sync import order_sync_account
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (fixture)


def modifies(peer):
    return peer.server.state.count(peer.wire, "modify")


@pytest.fixture
def open_limit(trading):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    order = execute(
        order=new(account, "INFY", order_type="LIMIT", price=Decimal("1400")), actor="alice"
    )
    assert order.status == "SENT"
    return order, peer


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": -5},
        {"quantity": 0},
        {"quantity": "2.5"},
        {"price": Decimal("NaN")},
        {"price": "NaN"},
        {"price": "inf"},
        {"price": "-1400"},
        {"price": "0"},
        {"price": "abc"},
        {"price": "1400.03"},  # off the 0.05 tick
        {"price": "1e20"},  # does not fit the order's price column
        {"trigger_price": "NaN"},
        {"order_type": "BOGUS"},
        {},
    ],
)
def test_bad_values_never_reach_the_broker(open_limit, change):
    order, peer = open_limit
    with pytest.raises(actions.ActionRefused):
        actions.modify(order=order, actor="alice", **change)
    assert modifies(peer) == 0
    order.refresh_from_db()
    assert order.quantity == 2 and order.price == Decimal("1400")


def test_valid_values_as_the_form_sends_them(open_limit):
    order, peer = open_limit
    order = actions.modify(order=order, actor="alice", quantity="3", price="1450.05")
    assert modifies(peer) == 1
    assert order.quantity == 3 and order.price == Decimal("1450.05")
    remote = peer.user.book.orders[order.broker_order_id]
    assert remote.price == Decimal("1450.05") and remote.quantity == 3


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the failing save uses a SQLite trigger")
def test_broker_answer_is_recorded_even_when_the_local_save_fails(open_limit):
    order, peer = open_limit
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TRIGGER refuse_price BEFORE UPDATE OF price ON orders_order "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    try:
        with pytest.raises(actions.ActionRefused, match="accepted the change"):
            actions.modify(order=order, actor="alice", price="1450")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_price")
    assert modifies(peer) == 1
    assert peer.user.book.orders[order.broker_order_id].price == Decimal("1450")
    messages = list(Order.objects.get(pk=order.pk).events.values_list("message", flat=True))
    assert any(
        m.startswith("Modified at the broker") and "could not be saved here" in m for m in messages
    )


def test_modify_without_a_clear_answer_says_so_and_the_sync_copies_the_brokers_terms(open_limit):
    order, peer = open_limit
    peer.server.state.inject(peer.wire, "modify", Fault("drop_after_accept", seconds=2.5))
    with pytest.raises(actions.ActionRefused, match="may have applied the change") as refused:
        actions.modify(order=order, actor="alice", quantity="3", price="1450.05")
    assert "placed" not in refused.value.message
    order.refresh_from_db()
    assert order.quantity == 2 and order.price == Decimal("1400")  # nothing saved on a guess
    assert order.events.filter(message__contains="Modify unconfirmed").exists()
    remote = peer.user.book.orders[order.broker_order_id]
    assert remote.price == Decimal("1450.05") and remote.quantity == 3  # the broker applied it
    order_sync_account(order.account)
    order.refresh_from_db()
    assert order.quantity == 3 and order.price == Decimal("1450.05")
    copied = order.events.get(message__contains="different terms")
    assert "price 1450.05 (was 1400" in copied.message and "quantity 3 (was 2)" in copied.message
    order_sync_account(order.account)  # said once, not every sync
    assert order.events.filter(message__contains="different terms").count() == 1


def test_sync_copies_a_changed_trigger_price_of_an_open_stop_order(trading):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    order = execute(
        order=new(
            account,
            "INFY",
            order_type="SL",  # a buy stop above the market: waits for its trigger
            price=Decimal("1610"),
            trigger_price=Decimal("1600"),
        ),
        actor="alice",
    )
    assert order.status == "SENT"
    peer.server.state.inject(peer.wire, "modify", Fault("drop_after_accept", seconds=2.5))
    with pytest.raises(actions.ActionRefused, match="may have applied"):
        actions.modify(order=order, actor="alice", trigger_price="1620", price="1630")
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "OPEN"
    assert order.trigger_price == Decimal("1620") and order.price == Decimal("1630")
