"""Rules protection relies on in orders: an intraday GTT is never native (Kite's GTT is for
CNC/NRML), and a protective exit is not held back by the entry risk limits."""

from decimal import Decimal as D

import pytest

from orders.execution import create_order, execute
from orders.models import ExitPlan, Order, RiskPolicy
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.protection.helpers import entry, legs, send, sync


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_an_intraday_gtt_is_managed_even_at_a_broker_with_native_gtt(trading):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = create_order(
        user=account.user,
        account=account,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=1,
        product="MIS",
        order_type="MARKET",
        actor="alice",
        is_gtt=True,
    )
    Order.objects.filter(pk=order.pk).update(condition="ltp_lte", trigger_value=D("780"))
    order = execute(order=Order.objects.get(pk=order.pk), actor="alice")
    # Before: sent to Kite as a GTT (refused there: its GTT takes LIMIT CNC/NRML legs).
    assert order.status == "ARMED" and order.gtt_id == ""
    assert not peer.user.book.gtts


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_entry_limits_do_not_hold_back_a_protective_exit(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", target="3%"))
    RiskPolicy.objects.create(
        user=account.user,
        max_orders_per_day=1,  # the entry used it
        denied_symbols="SBIN",
        max_order_value=100,
    )
    sync(account, django_capture_on_commit_callbacks)
    assert {leg.status for leg in legs(order)} == {"ARMED"}
    assert "protective exit" in legs(order)[0].risk_note


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_an_exit_still_never_sells_more_than_is_held(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, quantity=10, stop_loss="2%"))
    RiskPolicy.objects.create(user=account.user, allow_short_selling=False)
    # The position is gone at the broker before the exit is armed (sold elsewhere).
    send(entry(account, side="SELL", quantity=10))
    sync(account, django_capture_on_commit_callbacks)
    (stop,) = legs(order)
    assert stop.status == "FAILED" and "would go short" in stop.status_message
    assert ExitPlan.objects.get(entry=order).note.startswith("NOT protected")


def test_protection_beat_rows_name_registered_tasks(db):
    from django_celery_beat.models import PeriodicTask

    from sigmatrader.queueing import task

    rows = {row.task: row for row in PeriodicTask.objects.filter(task__startswith="protection.")}
    assert set(rows) == {"protection.trail_stops", "protection.sweep", "protection.watch_limits"}
    assert rows["protection.trail_stops"].interval.every == 5
    for name in rows:
        assert task(name).name == name
