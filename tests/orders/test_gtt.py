"""GTT: native at a broker that has it, managed here for one that does not."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from orders import actions
from orders.conditional import link_oco
from orders.execution import create_order, execute
from orders.models import Order
from orders.sync import order_sync_account
from orders.triggers import check_conditional_orders
from sigmatrader.models import SystemEvent
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)


def gtt(
    account,
    condition,
    trigger,
    *,
    price=None,
    side="SELL",
    quantity=2,
    symbol="SBIN",
    order_type="LIMIT",
    expires=None,
):
    order = create_order(
        user=account.user,
        account=account,
        symbol=f"NSE:{symbol}",
        side=side,
        quantity=quantity,
        order_type=order_type,
        price=price,
        actor="alice",
        is_gtt=True,
    )
    Order.objects.filter(pk=order.pk).update(
        condition=condition, trigger_value=Decimal(trigger), expires_at=expires
    )
    order.refresh_from_db()
    return order


@pytest.fixture
def holding(trading):  # noqa: F811
    """An account holding 10 SBIN bought at 800 (so SELL GTTs are exits)."""
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    bought = create_order(
        user=account.user,
        account=account,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=10,
        actor="alice",
    )
    execute(order=bought, actor="alice")
    return account, peer


# The emulated Zerodha account has native GTT; the AngelOne one does not.
NATIVE = pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
MANAGED = pytest.mark.parametrize("trading", ["angelone"], indirect=True)


def native_only(account):
    assert account.adapter_class.capabilities.gtt


def managed_only(account):
    assert not account.adapter_class.capabilities.gtt


@NATIVE
def test_native_single_gtt_lives_at_the_broker_and_comes_back_by_sync(holding):
    account, peer = holding
    native_only(account)
    order = execute(order=gtt(account, "ltp_lte", "780", price=Decimal("779")), actor="alice")
    assert order.status == "ARMED" and order.gtt_id
    remote = peer.user.book.gtts[int(order.gtt_id)]
    assert remote["status"] == "active" and remote["condition"]["trigger_values"] == [780.0]
    check_conditional_orders()
    order.refresh_from_db()
    assert order.status == "ARMED"  # price still 800
    peer.server.state.market.set_price("NSE", "SBIN", "780")  # at the trigger: fires
    check_conditional_orders()
    order.refresh_from_db()
    assert order.status == "SENT" and order.broker_order_id
    order_sync_account(account)
    order.refresh_from_db()
    # The SELL LIMIT 779 meets a 780 market: it fills at 780, not at its worse limit.
    assert order.status == "EXECUTED" and order.average_price == Decimal("780")


@NATIVE
def test_native_oco_is_one_two_leg_gtt_and_the_other_leg_is_cancelled(holding):
    account, peer = holding
    native_only(account)
    stop = gtt(account, "ltp_lte", "700", price=Decimal("699"))
    target = gtt(account, "ltp_gte", "900", price=Decimal("899"))
    link_oco(stop, target)
    execute(order=target, actor="alice")
    stop.refresh_from_db()
    target.refresh_from_db()
    assert stop.status == target.status == "ARMED" and stop.gtt_id == target.gtt_id
    assert peer.user.book.gtts[int(stop.gtt_id)]["type"] == "two-leg"
    peer.server.state.market.set_price("NSE", "SBIN", "905")
    check_conditional_orders()
    stop.refresh_from_db()
    target.refresh_from_db()
    assert target.status == "SENT" and stop.status == "CANCELLED"


@NATIVE
def test_native_gtt_whose_order_fails_at_the_broker_is_rejected_with_its_reason(holding, user):
    account, peer = holding
    native_only(account)
    # A limit price below the day's lower circuit: Kite fires the GTT but places nothing.
    order = execute(order=gtt(account, "ltp_lte", "780", price=Decimal("1")), actor="alice")
    peer.server.state.market.set_price("NSE", "SBIN", "780")
    check_conditional_orders()
    order.refresh_from_db()
    assert order.status == "REJECTED" and not order.broker_order_id
    assert "lower than the current lower circuit limit" in order.status_message
    assert "OCO" not in order.status_message
    assert order.events.filter(to_status="REJECTED", message__contains="circuit").exists()
    assert SystemEvent.objects.filter(user=user, message__contains="circuit").exists()


@NATIVE
def test_native_oco_failed_leg_is_rejected_and_the_other_cancelled(holding):
    account, peer = holding
    native_only(account)
    stop = gtt(account, "ltp_lte", "700", price=Decimal("699"))
    target = gtt(account, "ltp_gte", "900", price=Decimal("5000"))  # above the upper circuit
    link_oco(stop, target)
    execute(order=target, actor="alice")
    peer.server.state.market.set_price("NSE", "SBIN", "905")
    check_conditional_orders()
    stop.refresh_from_db()
    target.refresh_from_db()
    assert target.status == "REJECTED" and "upper circuit limit" in target.status_message
    assert stop.status == "CANCELLED"


@NATIVE
def test_native_gtt_cancel_deletes_it_at_the_broker(holding):
    account, peer = holding
    native_only(account)
    order = execute(order=gtt(account, "ltp_lte", "780", price=Decimal("779")), actor="alice")
    actions.cancel(order=order, actor="alice")
    order.refresh_from_db()
    assert order.status == "CANCELLED"
    assert peer.user.book.gtts[int(order.gtt_id)]["status"] == "deleted"


@MANAGED
def test_managed_gtt_triggers_once_when_the_condition_holds(holding):
    account, peer = holding
    managed_only(account)
    order = execute(order=gtt(account, "ltp_lte", "780", order_type="MARKET"), actor="alice")
    assert order.status == "ARMED" and not order.gtt_id
    assert "Managed by SigmaTrader" in order.status_message
    before = len(peer.user.book.orders)
    assert check_conditional_orders()["triggered"] == 0
    peer.server.state.market.set_price("NSE", "SBIN", "779.95")
    assert check_conditional_orders()["triggered"] == 1
    order.refresh_from_db()
    assert order.status == "SENT" and len(peer.user.book.orders) == before + 1
    assert check_conditional_orders()["triggered"] == 0  # never twice
    statuses = [(e.from_status, e.to_status) for e in order.events.all() if e.to_status]
    assert ("ARMED", "TRIGGERED") in statuses and ("TRIGGERED", "SENDING") in statuses


@MANAGED
def test_managed_gtt_never_triggers_without_a_price(holding):
    account, peer = holding
    managed_only(account)
    order = execute(order=gtt(account, "ltp_lte", "780", order_type="MARKET"), actor="alice")
    peer.server.state.market.set_price("NSE", "SBIN", "0")  # a zero is no price
    assert check_conditional_orders()["triggered"] == 0
    order.refresh_from_db()
    assert order.status == "ARMED"


@MANAGED
def test_managed_gtt_expires(holding):
    account, _ = holding
    managed_only(account)
    order = execute(
        order=gtt(
            account,
            "ltp_lte",
            "780",
            order_type="MARKET",
            expires=timezone.now() + timedelta(minutes=5),
        ),
        actor="alice",
    )
    check_conditional_orders(now=timezone.now() + timedelta(minutes=6))
    order.refresh_from_db()
    assert order.status == "EXPIRED"


@MANAGED
def test_managed_oco_cancels_the_sibling(holding):
    account, peer = holding
    managed_only(account)
    stop = gtt(account, "ltp_lte", "700", order_type="MARKET")
    target = gtt(account, "ltp_gte", "900", order_type="MARKET")
    link_oco(stop, target)
    execute(order=stop, actor="alice")
    target.refresh_from_db()
    assert target.status == "ARMED"  # armed together
    peer.server.state.market.set_price("NSE", "SBIN", "650")
    check_conditional_orders()
    stop.refresh_from_db()
    target.refresh_from_db()
    assert stop.status == "SENT" and target.status == "CANCELLED"
    assert "OCO" in target.status_message


@MANAGED
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_pollers_trigger_once(holding):
    account, peer = holding
    managed_only(account)
    order = execute(order=gtt(account, "ltp_lte", "780", order_type="MARKET"), actor="alice")
    peer.server.state.market.set_price("NSE", "SBIN", "770")
    before = len(peer.user.book.orders)
    barrier, results = threading.Barrier(2), []

    def poll():
        try:
            barrier.wait()
            results.append(check_conditional_orders()["triggered"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert len(peer.user.book.orders) == before + 1
    order.refresh_from_db()
    assert order.status == "SENT"
