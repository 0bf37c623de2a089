"""Exits armed on fill (issue 18, items 2 and 4): native GTT OCO at a broker that has it,
managed conditional orders otherwise; exactly once; OCO; shorts; MIS; paper."""

from decimal import Decimal as D

import pytest
from django.utils import timezone

from marketdata import clock
from orders.models import ExitPlan, Order
from protection.exits import arming, policy, sweep
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.protection.helpers import by_condition, entry, legs, send, sync, triggers

NATIVE = pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
MANAGED = pytest.mark.parametrize("trading", ["angelone"], indirect=True)


@pytest.fixture
def market(trading):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    return account, peer


@NATIVE
def test_native_oco_armed_on_fill_from_the_average_price(
    market, django_capture_on_commit_callbacks
):
    account, peer = market
    order = send(entry(account, stop_loss="2%", target="3%"))
    assert not legs(order)  # nothing before the fill is seen
    sync(account, django_capture_on_commit_callbacks)
    stop, target = by_condition(order)["ltp_lte"], by_condition(order)["ltp_gte"]
    assert (stop.status, target.status) == ("ARMED", "ARMED")
    assert stop.gtt_id and stop.gtt_id == target.gtt_id  # one two-leg GTT at the broker
    assert (stop.trigger_value, target.trigger_value) == (D("784"), D("824"))
    assert stop.side == target.side == "SELL" and stop.quantity == target.quantity == 10
    assert stop.order_type == "LIMIT" and stop.price == D("776.15")  # 1% below, on the tick
    assert stop.source == "protection" and stop.protects == order
    remote = peer.user.book.gtts[int(stop.gtt_id)]
    assert remote["type"] == "two-leg" and remote["condition"]["trigger_values"] == [784.0, 824.0]
    plan = ExitPlan.objects.get(entry=order)
    assert (plan.state, plan.mode, plan.protected_quantity) == ("active", "native", 10)
    assert "held at" in plan.note


@MANAGED
def test_managed_legs_armed_on_fill_where_the_broker_has_no_gtt(
    market, django_capture_on_commit_callbacks
):
    account, _ = market
    order = send(entry(account, stop_loss="790", target="25pts"))
    sync(account, django_capture_on_commit_callbacks)
    stop, target = by_condition(order)["ltp_lte"], by_condition(order)["ltp_gte"]
    assert (stop.status, target.status, stop.gtt_id) == ("ARMED", "ARMED", "")
    assert (stop.trigger_value, target.trigger_value) == (D("790"), D("825"))
    assert stop.order_type == "MARKET" and stop.oco_sibling_id == target.pk
    assert ExitPlan.objects.get(entry=order).mode == "managed"


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_armed_exactly_once_however_often_the_fill_is_seen(
    market, django_capture_on_commit_callbacks
):
    account, peer = market
    order = send(entry(account, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    for _ in range(3):  # the signal again, the beat's sweep, a second worker
        arming.handle_fill(order_id=order.pk)
        sweep.sweep()
    assert len(legs(order)) == 2
    if account.adapter_class.capabilities.gtt:
        assert len(peer.user.book.gtts) == 1


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_oco_one_leg_fills_the_other_is_cancelled_and_the_plan_closes(
    market, django_capture_on_commit_callbacks
):
    account, peer = market
    order = send(entry(account, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    peer.server.state.market.set_price("NSE", "SBIN", "783")  # through the stop
    triggers(django_capture_on_commit_callbacks)
    sync(account, django_capture_on_commit_callbacks)
    stop, target = legs(order)
    assert stop.status == "EXECUTED" and stop.filled_quantity == 10
    assert target.status == "CANCELLED"
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "done" and "Stop-loss exit" in plan.note
    sweep.sweep()  # nothing re-armed after a completed exit
    assert len(legs(order)) == 2


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_a_short_gets_buy_exits_stop_above_target_below(market, django_capture_on_commit_callbacks):
    account, peer = market
    order = send(entry(account, side="SELL", product="MIS", stop_loss="1%", target="20pts"))
    sync(account, django_capture_on_commit_callbacks)
    stop, target = by_condition(order)["ltp_gte"], by_condition(order)["ltp_lte"]
    assert stop.side == target.side == "BUY"
    assert (stop.trigger_value, target.trigger_value) == (D("808"), D("780"))
    assert stop.gtt_id == ""  # intraday: managed even where the broker has GTT
    peer.server.state.market.set_price("NSE", "SBIN", "779")
    triggers(django_capture_on_commit_callbacks)
    sync(account, django_capture_on_commit_callbacks)
    target.refresh_from_db()
    stop.refresh_from_db()
    assert target.status == "EXECUTED" and stop.status == "CANCELLED"


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_mis_legs_end_at_the_square_off_time(market, django_capture_on_commit_callbacks):
    account, _ = market
    order = send(entry(account, product="MIS", stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    stop = by_condition(order)["ltp_lte"]
    local = stop.expires_at.astimezone(clock.IST)
    # These tests run on the always-open clock (as the demo does): the day ends at
    # midnight. On the exchange's clock the legs end at 15:20 on a trading day.
    assert (local.hour, local.minute) == (0, 0) and stop.expires_at > timezone.now()
    from datetime import datetime

    from django.test import override_settings

    from protection.exits.policy import mis_expiry

    with override_settings(MARKET_ALWAYS_OPEN=False, MARKET_CLOCK="exchange"):
        morning = datetime(2026, 11, 25, 10, 0, tzinfo=clock.IST)
        assert mis_expiry(morning) == datetime(2026, 11, 25, 15, 20, tzinfo=clock.IST)
    # At the square-off time the managed poller expires them; the plan says why.
    Order.objects.filter(protects=order).update(expires_at=timezone.now())
    triggers(django_capture_on_commit_callbacks)
    assert {leg.status for leg in legs(order)} == {"EXPIRED"}
    sweep.sweep()
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "done" and "square-off" in plan.note


@NATIVE
def test_cnc_nrml_native_but_mis_managed_at_the_same_broker(market):
    account, _ = market
    cnc = Order(account=account, product="CNC")
    mis = Order(account=account, product="MIS")
    assert policy.native_kind(cnc, legs=2) is not None
    assert policy.native_kind(mis, legs=2) is None


@MANAGED
def test_an_entry_cancelled_unfilled_closes_its_waiting_plan(
    market, django_capture_on_commit_callbacks
):
    account, peer = market
    order = entry(account, stop_loss="2%")
    Order.objects.filter(pk=order.pk).update(status="CANCELLED")
    sweep.sweep()
    assert ExitPlan.objects.get(entry=order).state == "cancelled"
    assert not legs(order)


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_price_levels_on_the_wrong_side_of_a_market_fill_are_never_armed(
    market, django_capture_on_commit_callbacks
):
    """The review's case: a MARKET BUY with stop-loss 900 and target 700 at ~800 armed a
    GTT that fired at once and left the position with no stop, the page saying 'Protecting'."""
    from sigmatrader.models import SystemEvent

    account, peer = market
    order = send(entry(account, stop_loss="900", target="700"))  # a MARKET entry
    sync(account, django_capture_on_commit_callbacks)
    assert not legs(order)
    if account.adapter_class.capabilities.gtt:
        assert not peer.user.book.gtts
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state != "active" and plan.protected_quantity == 0
    assert plan.note.startswith("NOT protected — the stop-loss ₹900.00 is at or above the fill")
    assert "the target ₹700.00 is at or below the fill" in plan.note
    for _ in range(3):  # the sweep comes back: still nothing armed, said once
        sweep.sweep()
    assert not legs(order)
    warned = SystemEvent.objects.filter(message__contains="NOT protected — the stop-loss")
    assert warned.count() == 1
    # Corrected on the Orders page: armed on the next pass.
    ExitPlan.objects.filter(pk=plan.pk).update(stop_loss="780", target="820")
    sweep.sweep()
    assert {leg.trigger_value for leg in legs(order)} == {D("780"), D("820")}
