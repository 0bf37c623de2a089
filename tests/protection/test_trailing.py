"""Trailing stops (issue 18, item 3): the stop only tightens, never loosens."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders import exit_plans
from orders.models import ExitPlan
from protection.exits import trailing
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.protection.helpers import entry, legs, send, sync, triggers

TICK = D("0.05")


@given(
    side=st.sampled_from(["BUY", "SELL"]),
    trail=st.sampled_from(["1%", "2.5%", "10pts", "3pts"]),
    activation=st.sampled_from(["", "1%", "20pts"]),
    path=st.lists(st.integers(min_value=-4000, max_value=4000), min_size=1, max_size=60),
)
def test_the_stop_never_loosens_on_any_price_path(side, trail, activation, path):
    plan = exit_plans.parse_plan(trailing_stop=trail, trail_activation=activation or None)
    fill = D("800")
    stop = exit_plans.initial_stop(plan, fill=fill, side=side, tick=TICK)
    best = fill
    for step in path:
        price = max(fill + D(step) / 20, TICK)
        best = exit_plans.better(side, price, best)
        new = exit_plans.next_stop(
            plan=plan, side=side, fill=fill, best=best, current=stop, tick=TICK
        )
        assert (new >= stop) if side == "BUY" else (new <= stop)
        assert (new / TICK) == (new / TICK).to_integral_value()  # on the tick
        stop = new


def test_a_scripted_path_long():
    plan = exit_plans.parse_plan(trailing_stop="10pts", trail_activation="820")
    stop, best = D("790"), D("800")
    seen = []
    for price in ["805", "815", "821", "830", "826", "818", "840", "835"]:
        best = exit_plans.better("BUY", D(price), best)
        stop = exit_plans.next_stop(
            plan=plan, side="BUY", fill=D("800"), best=best, current=stop, tick=TICK
        )
        seen.append(stop)
    # Not before 820 is reached; then 10 below the best; never back down.
    assert seen == [D(x) for x in ["790", "790", "811", "820", "820", "820", "830", "830"]]


@pytest.mark.parametrize("trading", ["angelone", "zerodha"], indirect=True)
def test_trailing_on_the_emulator_moves_the_armed_stop_and_never_back(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    account, peer = trading
    market = peer.server.state.market
    market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", target="10%", trailing_stop="1%"))
    sync(account, django_capture_on_commit_callbacks)
    levels = []
    for price in ["800", "810", "830", "820", "845", "840"]:
        market.set_price("NSE", "SBIN", price)
        trailing.trail_one(ExitPlan.objects.get(entry=order), price=D(price))
        stop = next(
            leg for leg in legs(order) if leg.status == "ARMED" and leg.condition == "ltp_lte"
        )
        levels.append(stop.trigger_value)
        if stop.gtt_id:  # native: the broker's GTT holds the same stop
            remote = peer.user.book.gtts[int(stop.gtt_id)]
            assert remote["status"] == "active"
            assert D(str(remote["condition"]["trigger_values"][0])) == stop.trigger_value
    # 1% under the best at once (tighter than the 2% stop-loss), never back down.
    assert levels == [D(x) for x in ["792", "801.9", "821.7", "821.7", "836.55", "836.55"]]
    assert levels == sorted(levels)
    plan = ExitPlan.objects.get(entry=order)
    assert plan.stop_level == D("836.55") and plan.best_price == D("845")
    # The target stays where it was; one pair is armed at any time.
    armed = [leg for leg in legs(order) if leg.status == "ARMED"]
    assert len(armed) == 2 and {leg.trigger_value for leg in armed} == {D("836.55"), D("880")}
    # The trailed stop fires like any other.
    market.set_price("NSE", "SBIN", "836")
    triggers(django_capture_on_commit_callbacks)
    sync(account, django_capture_on_commit_callbacks)
    plan.refresh_from_db()
    assert plan.state == "done"


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_a_trailing_move_the_broker_did_not_take_is_tried_again(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
    settings,
):
    from emulator.state import Fault

    account, peer = trading
    market = peer.server.state.market
    market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", trailing_stop="2%"))
    sync(account, django_capture_on_commit_callbacks)
    (stop,) = [leg for leg in legs(order) if leg.status == "ARMED"]
    # The broker does not answer the change: the GTT keeps its stop, and so does the plan.
    for operation in ("gtt", "gtt_modify"):  # cancel-and-replace, or a modify in place
        peer.server.state.inject(peer.wire, operation, Fault("server_error", times=10, status=503))
    market.set_price("NSE", "SBIN", "850")
    assert not trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    plan = ExitPlan.objects.get(entry=order)
    assert plan.stop_level == D("784") and "not at the broker" in plan.note
    stop.refresh_from_db()
    assert stop.status == "ARMED" and stop.trigger_value == D("784")
    assert peer.user.book.gtts[int(stop.gtt_id)]["condition"]["trigger_values"] == [784.0]
    peer.server.state.clear_faults()
    settings.PROTECTION_RETRY_SECONDS = 0  # the retry policy's spacing has passed
    assert trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    (moved,) = [leg for leg in legs(order) if leg.status == "ARMED"]
    assert moved.trigger_value == D("833") and ExitPlan.objects.get(entry=order).stop_level == D(
        "833"
    )


def _stop_armed(order):
    (stop,) = [leg for leg in legs(order) if leg.status == "ARMED" and leg.condition == "ltp_lte"]
    return stop


def _trailing_native(trading, capture):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", target="10%", trailing_stop="2%"))
    sync(account, capture)
    assert _stop_armed(order).gtt_id
    peer.server.state.market.set_price("NSE", "SBIN", "850")
    return account, peer, order


def _remote_stop(peer, order):
    return peer.user.book.gtts[int(_stop_armed(order).gtt_id)]["condition"]["trigger_values"][0]


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_a_gtt_change_without_an_answer_is_read_back_and_retried_by_the_policy(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
    settings,
):
    from emulator.state import Fault

    account, peer, order = _trailing_native(trading, django_capture_on_commit_callbacks)
    state = peer.server.state
    # The change times out and did not land: the GTT read back still shows 784.
    state.inject(peer.wire, "gtt_modify", Fault("timeout", times=1, seconds=2))
    assert not trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "active" and plan.stop_level == D("784")
    assert "no answer" in plan.note and "retried in 60 s (3 retries left)" in plan.note
    assert _stop_armed(order).trigger_value == D("784") and _remote_stop(peer, order) == 784.0
    # Within the retry spacing nothing is sent again.
    sent = state.count(peer.wire, "gtt_modify")
    assert not trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    assert state.count(peer.wire, "gtt_modify") == sent
    # Once the spacing has passed, the next trail pass retries, and it lands.
    settings.PROTECTION_RETRY_SECONDS = 0
    assert trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    assert state.count(peer.wire, "gtt_modify") == sent + 1
    plan = ExitPlan.objects.get(entry=order)
    assert plan.state == "active" and plan.stop_level == D("833")
    assert _stop_armed(order).trigger_value == D("833") and _remote_stop(peer, order) == 833.0


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_a_gtt_change_that_landed_without_an_answer_is_recorded_from_the_read_back(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from emulator.state import Fault

    account, peer, order = _trailing_native(trading, django_capture_on_commit_callbacks)
    peer.server.state.inject(peer.wire, "gtt_modify", Fault("drop_after_accept", seconds=2))
    assert trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    stop = _stop_armed(order)
    # The app's stop is the broker's: no mismatch, nothing sent again.
    assert stop.trigger_value == D("833") and _remote_stop(peer, order) == 833.0
    assert ExitPlan.objects.get(entry=order).stop_level == D("833")
    assert stop.events.filter(message__contains="the GTT list shows the change").exists()
    assert peer.server.state.count(peer.wire, "gtt_modify") == 1


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_trailing_ends_saying_so_only_when_the_retries_are_exhausted(
    trading,  # noqa: F811
    django_capture_on_commit_callbacks,
    settings,
):
    from emulator.state import Fault
    from sigmatrader.models import SystemEvent

    settings.PROTECTION_MAX_RETRIES = 2
    settings.PROTECTION_RETRY_SECONDS = 0
    account, peer, order = _trailing_native(trading, django_capture_on_commit_callbacks)
    state = peer.server.state
    state.inject(peer.wire, "gtt_modify", Fault("timeout", times=10, seconds=2))
    for _ in (1, 2):
        assert not trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
        plan = ExitPlan.objects.get(entry=order)
        assert plan.state == "active" and "Trailing stopped" not in plan.note
    assert not trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    assert state.count(peer.wire, "gtt_modify") == 3  # the first try and 2 retries
    plan = ExitPlan.objects.get(entry=order)
    assert plan.note.startswith("Trailing stopped") and "stays at ₹784.00" in plan.note
    warning = SystemEvent.objects.filter(level="warning", message__contains="Trailing stopped")
    assert warning.count() == 1
    # Still protected at the stop the broker holds; no further changes are sent.
    assert plan.state == "active" and _stop_armed(order).trigger_value == D("784")
    assert not trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("860"))
    assert state.count(peer.wire, "gtt_modify") == 3
