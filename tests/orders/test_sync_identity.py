"""Sync applies a broker row only to the order it is: a broker id can be reused.

Reproduces issue 12 item 11: the emulator restarted empty, its ids started
over, and an old SBIN order was synced with a new RELIANCE order's data."""

from decimal import Decimal

import pytest

from brokers.base import BrokerOrder, InstrumentRef, OrderStatus, OrderType, Product, Side
from marketdata import refresh
from orders.execution import create_order, execute
from orders.identity import mismatch
from orders.models import Order
from orders.sync import order_sync_account
from sigmatrader.models import SystemEvent
from tests.brokers.peers import connected_account


@pytest.fixture(params=["zerodha", "angelone"])
def trading(request, emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    account, peer = connected_account(emulator, user, request.param, "main")
    refresh.refresh_instruments(broker=request.param)
    return account, peer


def new(account, symbol, **fields):
    return create_order(
        user=account.user, account=account, symbol=f"NSE:{symbol}", actor="alice", **fields
    )


def test_a_reused_broker_id_is_not_applied_to_the_old_order(trading, user):
    account, peer = trading
    market = peer.server.state.market
    market.set_price("NSE", "SBIN", "810")
    market.set_price("NSE", "RELIANCE", "2892.50")
    old = execute(
        order=new(account, "SBIN", side="BUY", quantity=2, order_type="LIMIT", price=Decimal(800)),
        actor="alice",
    )
    order_sync_account(account)
    old.refresh_from_db()
    assert old.status == Order.Status.OPEN

    peer.server.state.restart_empty()  # the broker forgot everything; ids start over
    fresh = execute(order=new(account, "RELIANCE", side="BUY", quantity=3), actor="alice")
    assert fresh.broker_order_id == old.broker_order_id  # the reuse this test is about

    order_sync_account(account)
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert fresh.status == Order.Status.EXECUTED and fresh.average_price == Decimal("2892.50")
    # The old order keeps its own state: not "Executed, 3 @ 2,892.50".
    assert old.status == Order.Status.OPEN
    assert old.filled_quantity == 0 and old.average_price is None
    event = old.events.get(details__mismatch=True)
    assert old.broker_order_id in event.message and "different order" in event.message
    warning = SystemEvent.objects.get(user=user, category="order", message__contains="different")
    assert f"#{old.pk}" in warning.message

    order_sync_account(account)  # said once, not on every cycle
    assert old.events.filter(details__mismatch=True).count() == 1
    assert SystemEvent.objects.filter(message__contains="different order").count() == 1


def test_without_tags_the_contents_tell_the_orders_apart(trading):
    account, peer = trading
    state = peer.server.state
    state.echo_order_tags = False  # the broker's book says nothing of our tags
    state.market.set_price("NSE", "SBIN", "810")
    state.market.set_price("NSE", "RELIANCE", "2892.50")
    old = execute(
        order=new(account, "SBIN", side="BUY", quantity=2, order_type="LIMIT", price=Decimal(800)),
        actor="alice",
    )
    order_sync_account(account)
    old.refresh_from_db()
    assert old.status == Order.Status.OPEN  # its own row, recognised by its contents
    state.restart_empty()
    fresh = execute(order=new(account, "RELIANCE", side="BUY", quantity=3), actor="alice")
    assert fresh.broker_order_id == old.broker_order_id
    order_sync_account(account)
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert fresh.status == Order.Status.EXECUTED
    assert old.status == Order.Status.OPEN and old.filled_quantity == 0
    event = old.events.get(details__mismatch=True)
    assert "RELIANCE" in event.message and "quantity 3" in event.message


def remote(**fields):
    values = {
        "broker_order_id": "1",
        "status": OrderStatus.EXECUTED,
        "instrument": InstrumentRef("NSE", "SBIN", "3045"),
        "side": Side.BUY,
        "quantity": 2,
        "filled_quantity": 2,
        "order_type": OrderType.MARKET,
        "product": Product.CNC,
        "tag": "",
    }
    values.update(fields)
    return BrokerOrder(**values)


def local(**fields):
    values = {"symbol": "NSE:SBIN", "exchange": "NSE", "side": "BUY", "quantity": 2}
    values.update(fields)
    return Order(client_tag="STAAAA", **values)


def test_identity_by_tag_when_the_broker_returns_one():
    assert mismatch(local(), remote(tag="STAAAA")) == ""
    assert "tag STBBBB" in mismatch(local(), remote(tag="STBBBB"))
    # The tag decides: a matching tag with a changed quantity (modified elsewhere) is ours.
    assert mismatch(local(), remote(tag="STAAAA", quantity=5)) == ""


def test_identity_without_a_tag_by_instrument_side_and_quantity():
    assert mismatch(local(), remote()) == ""
    assert "instrument RELIANCE" in mismatch(
        local(), remote(instrument=InstrumentRef("NSE", "RELIANCE"))
    )
    assert "exchange BSE" in mismatch(local(), remote(instrument=InstrumentRef("BSE", "SBIN")))
    assert "side SELL" in mismatch(local(), remote(side=Side.SELL))
    assert "quantity 3" in mismatch(local(), remote(quantity=3))


def test_an_order_a_broker_gtt_placed_is_checked_without_the_tag():
    # Our tag never reached the broker: whatever tag the row has does not decide.
    gtt_leg = local(gtt_id="112127")
    assert mismatch(gtt_leg, remote(tag="BROKERS")) == ""
    assert "quantity 9" in mismatch(gtt_leg, remote(tag="BROKERS", quantity=9))
