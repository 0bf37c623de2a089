"""Protection's life cycle on the emulator (issue 18, items 2, 4 and 6): partial fills,
a cancelled remainder, rejected exits and the retry policy, reconciliation with manual
exits and square-off, AMO entries, paper."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from orders import actions
from orders.models import ExitPlan, Order
from portfolio.models import Position
from portfolio.sync import portfolio_sync_account
from portfolio.trading import square_off
from protection.exits import reconcile, sweep
from sigmatrader.models import SystemEvent
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.protection.helpers import by_condition, entry, legs, send, sync, triggers

BOTH = pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
NATIVE = pytest.mark.parametrize("trading", ["zerodha"], indirect=True)


@pytest.fixture
def market(trading):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    return account, peer


def resting_buy(account, peer, quantity=10, **plan):
    """A LIMIT BUY below the market: it rests OPEN at the broker."""
    from orders.execution import create_order
    from orders.exit_plans import parse_plan

    order = create_order(
        user=account.user,
        account=account,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=quantity,
        order_type="LIMIT",
        price=D("790"),
        actor="alice",
        exit_plan=parse_plan(**plan),
    )
    order = send(order)
    remote = peer.user.book.orders[order.broker_order_id]
    assert remote.status == "OPEN"
    return order, remote


def fill_partly(remote, filled, price="790"):
    remote.filled_quantity, remote.average_price = filled, D(price)


@BOTH
def test_partial_fills_grow_the_protection(market, django_capture_on_commit_callbacks):
    account, peer = market
    order, remote = resting_buy(account, peer, stop_loss="2%", target="3%")
    fill_partly(remote, 4)
    sync(account, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == "PARTIALLY_FILLED"
    assert [leg.quantity for leg in legs(order)] == [4, 4]
    fill_partly(remote, 10)
    remote.status = "COMPLETE"
    sync(account, django_capture_on_commit_callbacks)
    active = [leg for leg in legs(order) if leg.status == "ARMED"]
    stops = [leg for leg in active if leg.condition == "ltp_lte"]
    assert sum(leg.quantity for leg in stops) == 10  # all of the fill is protected
    assert {leg.trigger_value for leg in stops} == {D("774.2")}  # 2% under 790, on the tick
    assert ExitPlan.objects.get(entry=order).protected_quantity == 10
    if not account.adapter_class.capabilities.gtt:
        assert len(active) == 2  # managed legs grew in place
    else:
        assert len(active) == 4 and len({leg.gtt_id for leg in active}) == 2  # a second GTT


@BOTH
def test_a_cancelled_remainder_leaves_the_filled_part_protected(
    market, django_capture_on_commit_callbacks
):
    account, peer = market
    order, remote = resting_buy(account, peer, stop_loss="2%")
    fill_partly(remote, 3)
    sync(account, django_capture_on_commit_callbacks)
    actions.cancel(order=order, actor="alice")
    sync(account, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == "CANCELLED" and order.filled_quantity == 3
    sweep.sweep()
    (stop,) = legs(order)
    assert stop.status == "ARMED" and stop.quantity == 3
    assert ExitPlan.objects.get(entry=order).state == "active"


@BOTH
def test_a_fill_missed_by_the_signal_is_armed_by_the_sweep(market):
    account, peer = market
    order = send(entry(account, stop_loss="2%"))
    from orders.sync import order_sync_account

    order_sync_account(account)  # the after-commit signal never ran (a crashed worker)
    assert not legs(order)
    sweep.sweep()
    assert [leg.status for leg in legs(order)] == ["ARMED"]


@NATIVE
def test_a_rejected_exit_is_visible_at_once_and_retried_by_the_policy(
    market, django_capture_on_commit_callbacks, settings, user
):
    account, peer = market
    settings.PROTECTION_MAX_RETRIES = 2
    market_ = peer.server.state.market
    inst = market_.get("NSE", "SBIN")
    market_.closes[inst.key] = D("1000")  # the day's band is 800..1200: the stop's limit is out
    order = send(entry(account, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    market_.set_price("NSE", "SBIN", "783")
    triggers(django_capture_on_commit_callbacks)
    stop, target = legs(order)
    assert stop.status == "REJECTED" and "circuit" in stop.status_message
    assert stop.events.filter(to_status="REJECTED").exists()  # the in-page toast's event
    assert SystemEvent.objects.filter(user=user, message__contains="circuit").exists()
    plan = ExitPlan.objects.get(entry=order)
    sweep.sweep()  # within the retry spacing: nothing yet
    assert len(legs(order)) == 2
    market_.closes[inst.key] = D("800")  # the band moves: a retry can be placed
    market_.set_price("NSE", "SBIN", "790")
    later = timezone.now() + timedelta(seconds=61)
    assert sweep.sweep(now=later)["retried"] == 1
    fresh = [leg for leg in legs(order) if leg.status == "ARMED"]
    assert len(fresh) == 2 and fresh[0].quantity == 10
    plan.refresh_from_db()
    assert plan.retries == 1 and plan.state == "active"


@NATIVE
def test_retries_stop_at_the_limit_and_say_not_protected(
    market, django_capture_on_commit_callbacks, settings, user
):
    account, peer = market
    settings.PROTECTION_MAX_RETRIES = 1
    order = send(entry(account, stop_loss="2%"))
    # The session expires as the GTT is sent: definitely not armed (FAILED), said so.
    from emulator.state import Fault

    peer.server.state.inject(peer.wire, "gtt", Fault("expired_token", times=5))
    sync(account, django_capture_on_commit_callbacks)
    plan = ExitPlan.objects.get(entry=order)
    (leg,) = legs(order)
    assert leg.status in ("REJECTED", "FAILED")
    assert plan.note.startswith("NOT protected") and "1 retry left" in plan.note
    later = timezone.now() + timedelta(seconds=61)
    sweep.sweep(now=later)
    sweep.sweep(now=later + timedelta(seconds=61))
    plan.refresh_from_db()
    assert plan.retries == 1 and "no retries left" in plan.note
    assert len(legs(order)) == 2  # the first try and one retry, never more
    first, retry = legs(order)
    assert first.status == "CANCELLED" and "Superseded by a retry" in first.status_message
    assert SystemEvent.objects.filter(user=user, message__contains="no retries left").exists()


@BOTH
def test_a_manual_exit_cancels_the_legs_on_the_next_portfolio_sync(
    market, django_capture_on_commit_callbacks
):
    account, peer = market
    order = send(entry(account, quantity=10, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    assert {leg.status for leg in legs(order)} == {"ARMED"}  # still open: kept
    # The trader sells 4 by hand, outside the plan.
    send(entry(account, side="SELL", quantity=4))
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    armed = [leg for leg in legs(order) if leg.status == "ARMED"]
    assert armed and {leg.quantity for leg in armed} == {6}
    # …then the rest.
    send(entry(account, side="SELL", quantity=6))
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    assert not [leg for leg in legs(order) if leg.status == "ARMED"]
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "done" and "closed outside the plan" in plan.note
    if account.adapter_class.capabilities.gtt:
        assert all(g["status"] != "active" for g in peer.user.book.gtts.values())


@BOTH
def test_square_off_of_an_intraday_position_cancels_its_legs(
    market, django_capture_on_commit_callbacks
):
    account, peer = market
    order = send(entry(account, product="MIS", stop_loss="2%"))
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    position = Position.objects.get(account=account, product="MIS")
    square_off(user=account.user, position=position, actor="alice")
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    (stop,) = legs(order)
    assert stop.status == "CANCELLED"
    assert ExitPlan.objects.get(entry=order).state == "done"


@BOTH
def test_positions_read_before_the_legs_were_armed_are_not_trusted(market):
    account, _ = market
    from portfolio.models import PortfolioSync

    order = send(entry(account, stop_loss="2%"))
    from orders.sync import order_sync_account

    order_sync_account(account)
    PortfolioSync.objects.update_or_create(
        account=account, defaults={"synced_at": timezone.now() - timedelta(minutes=5)}
    )
    sweep.sweep()  # arms now; the portfolio shows no position yet (read before the fill)
    assert reconcile.reconcile_account(account.pk) == []
    assert legs(order)[0].status == "ARMED"


@BOTH
def test_an_amo_entry_arms_when_it_fills_at_the_open(market, django_capture_on_commit_callbacks):
    account, peer = market
    peer.server.state.set_market("closed")
    order = entry(account, stop_loss="2%")
    Order.objects.filter(pk=order.pk).update(variety="AMO")
    order = send(Order.objects.get(pk=order.pk))
    sync(account, django_capture_on_commit_callbacks)
    assert not legs(order)  # waiting for the open
    peer.server.state.set_market("open")
    sync(account, django_capture_on_commit_callbacks)
    assert [leg.status for leg in legs(order)] == ["ARMED"]


def test_paper_entries_are_protected_by_managed_legs(
    emulator, user, settings, django_capture_on_commit_callbacks
):
    from marketdata import refresh
    from tests.brokers.peers import connected_account
    from tests.brokers.peers.paper import connected_paper_account

    settings.MARKET_ALWAYS_OPEN = True
    connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    account = connected_paper_account(user, load_instruments=True)
    emulator.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, quantity=5, stop_loss="1%", target="2%"))
    sync(account, django_capture_on_commit_callbacks)
    stop, target = by_condition(order)["ltp_lte"], by_condition(order)["ltp_gte"]
    assert (stop.status, target.status, stop.gtt_id) == ("ARMED", "ARMED", "")
    assert (stop.trigger_value, target.trigger_value) == (D("792"), D("816"))
    emulator.state.market.set_price("NSE", "SBIN", "817")
    triggers(django_capture_on_commit_callbacks)
    sync(account, django_capture_on_commit_callbacks)
    target.refresh_from_db()
    stop.refresh_from_db()
    assert target.status == "EXECUTED" and stop.status == "CANCELLED"
    assert ExitPlan.objects.get(entry=order).state == "done"


@BOTH
def test_an_exit_whose_placement_may_still_surface_is_never_resent(
    market, django_capture_on_commit_callbacks
):
    """A triggered exit with no clear answer, marked "not received" by the sync, may still
    appear at the broker: the retry policy must not send another one."""
    from orders.sync import NOT_RECEIVED

    account, peer = market
    order = send(entry(account, stop_loss="2%"))
    sync(account, django_capture_on_commit_callbacks)
    (stop,) = legs(order)
    Order.objects.filter(pk=stop.pk).update(status="FAILED", status_message=NOT_RECEIVED)
    later = timezone.now() + timedelta(minutes=10)
    sweep.sweep(now=later)
    sweep.sweep(now=later + timedelta(minutes=10))
    assert len(legs(order)) == 1  # nothing re-armed
    assert ExitPlan.objects.get(entry=order).state == "active"


@BOTH
def test_a_square_off_done_at_the_broker_cancels_the_legs(
    market, django_capture_on_commit_callbacks
):
    """The broker's own intraday auto square-off (15:20), not through the app: the next
    portfolio sync sees the position flat and the legs go."""
    account, peer = market
    order = send(entry(account, product="MIS", quantity=5, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    state = peer.server.state
    state.place(
        peer.user.book,
        state.market.get("NSE", "SBIN"),
        side="SELL",
        quantity=5,
        order_type="MARKET",
        product="MIS",
        price=D(0),
        trigger_price=D(0),
        validity="DAY",
        variety="NORMAL",
        tag="",
    )
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    assert {leg.status for leg in legs(order)} == {"CANCELLED"}
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "done" and "closed outside the plan" in plan.note


@NATIVE
def test_a_failed_exit_sent_again_by_the_trader_is_not_also_retried(
    market, django_capture_on_commit_callbacks, settings
):
    """A FAILED leg waits in the queue, where the trader may Execute it: then the retry
    policy must not arm a second protection for the same shares."""
    from emulator.state import Fault

    account, peer = market
    order = send(entry(account, stop_loss="2%"))
    peer.server.state.inject(peer.wire, "gtt", Fault("expired_token"))
    sync(account, django_capture_on_commit_callbacks)
    (failed,) = legs(order)
    assert failed.status == "FAILED"
    peer.connect_account(account)  # the trader reconnects and sends the exit again
    account.refresh_from_db()
    assert send(Order.objects.get(pk=failed.pk)).status == "ARMED"
    sweep.sweep(now=timezone.now() + timedelta(seconds=61))
    assert [leg.status for leg in legs(order)] == ["ARMED"]
    assert ExitPlan.objects.get(entry=order).note.startswith("Armed for 10")


@BOTH
def test_a_whole_square_off_withdraws_the_armed_exits_before_it_is_sent(
    market, django_capture_on_commit_callbacks
):
    """Else a stop firing between the square-off and the next portfolio sync would sell
    the position a second time (an intraday one would go short)."""
    account, peer = market
    order = send(entry(account, product="MIS", stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    position = Position.objects.get(account=account, product="MIS")
    exit_order = square_off(user=account.user, position=position, actor="alice")
    assert exit_order.status == "SENT"
    assert {leg.status for leg in legs(order)} == {"CANCELLED"}  # before the next sync
    peer.server.state.market.set_price("NSE", "SBIN", "700")  # through the old stop
    assert triggers(django_capture_on_commit_callbacks)["triggered"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "done"
    assert plan.note.startswith("Squared off")  # not "closed outside the plan"


@BOTH
def test_a_square_off_the_broker_refuses_re_arms_the_withdrawn_exits(
    market, django_capture_on_commit_callbacks
):
    """The second review (M12): the legs are withdrawn before the square-off is sent; if
    the broker then refuses it, the position must not be left unprotected."""
    from emulator.state import Fault
    from protection.exits import sweep

    account, peer = market
    order = send(entry(account, product="MIS", stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    position = Position.objects.get(account=account, product="MIS")
    peer.server.state.inject(peer.wire, "place", Fault("server_error", status=500))
    exit_order = square_off(user=account.user, position=position, actor="alice")
    assert exit_order.status == "UNKNOWN"  # may or may not have been taken: wait
    assert {leg.status for leg in legs(order)} == {"CANCELLED"}
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep()
    assert not [leg for leg in legs(order) if leg.status == "ARMED"]  # not while unknown
    sync(account, django_capture_on_commit_callbacks)  # the order book: never received
    exit_order.refresh_from_db()
    assert exit_order.status == "FAILED"
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep()
    armed = [leg for leg in legs(order) if leg.status == "ARMED"]
    assert len(armed) == 2 and {leg.quantity for leg in armed} == {10}
    assert ExitPlan.objects.get(entry=order).state == "active"
    assert order.events.filter(message__contains="the square-off was not done").exists()


@BOTH
def test_a_partial_manual_exit_shrinks_the_legs_at_the_order_sync_exactly_once(
    market, django_capture_on_commit_callbacks
):
    from protection.exits import arming

    account, peer = market
    order = send(entry(account, quantity=10, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)  # read after the arming: trusted
    assert {leg.quantity for leg in legs(order) if leg.status == "ARMED"} == {10}
    # The trader sells 4 from the Queue; the order sync sees it fill. No portfolio sync.
    manual = send(entry(account, side="SELL", quantity=4))
    sync(account, django_capture_on_commit_callbacks)
    manual.refresh_from_db()
    assert manual.status == "EXECUTED"
    armed = [leg for leg in legs(order) if leg.status == "ARMED"]
    assert len(armed) == 2 and {leg.quantity for leg in armed} == {6}
    if account.adapter_class.capabilities.gtt:  # the broker's GTT carries 6 now
        active = [g for g in peer.user.book.gtts.values() if g["status"] == "active"]
        assert len(active) == 1
        assert {o["quantity"] for o in active[0]["orders"]} == {6}
    # Exactly once: the same fill seen again (the signal twice, another sync) changes nothing.
    arming.handle_fill(order_id=manual.pk)
    sync(account, django_capture_on_commit_callbacks)
    again = [leg for leg in legs(order) if leg.status == "ARMED"]
    assert [leg.pk for leg in again] == [leg.pk for leg in armed]
    assert {leg.quantity for leg in again} == {6}
    assert manual.events.filter(message__startswith="Protection: counted against").count() == 1
    # The portfolio sync that follows agrees: nothing more to reduce.
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    assert [leg.quantity for leg in legs(order) if leg.status == "ARMED"] == [6, 6]


@BOTH
def test_a_same_day_sale_squares_todays_protected_buy_before_older_holdings(
    market, django_capture_on_commit_callbacks
):
    """The second review (H3): 40 SBIN held from before, a protected CNC buy of 10 today,
    then a CNC sale of 4 today. The exchange nets the day's sale against the day's buy
    (the day's CNC position is 6), so the stop covers 6; before, it kept covering 10 and
    its fill sold 4 of the older holding."""
    account, peer = market
    from tests.portfolio.helpers import seed

    seed(peer, holdings=[("SBIN", 40, "700")])  # held from before, unprotected
    order = send(entry(account, quantity=10, stop_loss="2%"))
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)
    assert [leg.quantity for leg in legs(order) if leg.status == "ARMED"] == [10]
    send(entry(account, side="SELL", quantity=4))
    sync(account, django_capture_on_commit_callbacks)
    assert [leg.quantity for leg in legs(order) if leg.status == "ARMED"] == [6]
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_sync_account(account)  # the day's CNC position is +6: it agrees
    assert [leg.quantity for leg in legs(order) if leg.status == "ARMED"] == [6]
    # The final check: the price falls through the stop, which sells the 6. The plan is
    # exited, not "cancelled outside the plan" (the OCO cancelled the other leg).
    from protection.exits import sweep

    peer.server.state.market.set_price("NSE", "SBIN", "780")  # through the 784 stop
    triggers(django_capture_on_commit_callbacks)
    sync(account, django_capture_on_commit_callbacks)
    sync(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep()
    fired = [leg for leg in legs(order) if leg.status == "EXECUTED"]
    assert [leg.filled_quantity for leg in fired] == [6], [
        (leg.pk, leg.status, leg.quantity, leg.trigger_value, leg.gtt_id, leg.status_message)
        for leg in legs(order)
    ]
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "done" and plan.note.startswith("Exited in full"), plan.note


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_a_manual_exit_before_any_portfolio_read_shrinks_by_its_fill(
    market, django_capture_on_commit_callbacks
):
    account, _ = market
    order = send(entry(account, quantity=10, stop_loss="2%"))
    sync(account, django_capture_on_commit_callbacks)
    send(entry(account, side="SELL", quantity=3))
    sync(account, django_capture_on_commit_callbacks)
    assert [leg.quantity for leg in legs(order) if leg.status == "ARMED"] == [7]
