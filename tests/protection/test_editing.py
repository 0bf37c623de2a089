"""The Orders page's plan edit (issue 18 leftovers): the trailing stop and where it trails
from can be changed like the stop-loss and target, checked against the entry's side and
fill; on an armed plan a changed trail applies from the best price so far and the stop
still only tightens."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from orders.execution import create_order
from orders.exit_plans import parse_plan
from orders.models import ExitPlan
from protection.exits import editing
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.protection.helpers import by_condition, entry, send, sync


@pytest.fixture
def filled(trading, django_capture_on_commit_callbacks):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", target="10%"))
    sync(account, django_capture_on_commit_callbacks)
    assert by_condition(order)["ltp_lte"].trigger_value == D("784")
    return account, peer, order


def edit(order, **fields):
    fields.setdefault("stop_loss", "2%")
    fields.setdefault("target", "10%")
    return editing.edit_plan(entry=order, actor="alice", **fields)


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_a_trail_added_on_an_armed_plan_tightens_the_stop_and_never_loosens_it(filled):
    account, peer, order = filled
    assert edit(order, trailing_stop="1%") == {}
    plan = ExitPlan.objects.get(entry=order)
    assert plan.trailing_stop == "1%" and plan.summary == "SL 2%, target 10%, trail 1%"
    stop = by_condition(order)["ltp_lte"]
    # 1% under the best price so far (the fill, 800): tighter than the 2% stop-loss.
    assert stop.status == "ARMED" and stop.trigger_value == D("792")
    assert plan.stop_level == D("792")
    if stop.gtt_id:  # held at the broker: the GTT carries the new stop
        remote = peer.user.book.gtts[int(stop.gtt_id)]
        assert remote["condition"]["trigger_values"][0] == 792.0
    # A looser trail is stored, but the stop does not move back.
    assert edit(order, trailing_stop="5%", trail_activation="5%") == {}
    plan.refresh_from_db()
    assert (plan.trailing_stop, plan.trail_activation) == ("5%", "5%")
    assert plan.stop_level == D("792") and by_condition(order)["ltp_lte"].trigger_value == D("792")


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
@pytest.mark.parametrize(
    "fields, field_text",
    [
        ({"trailing_stop": "1%", "trail_activation": "790"}, "Trail from 790 must be above"),
        ({"trailing_stop": "800pts"}, "as large as the fill"),
        ({"trailing_stop": "fast"}, "Trailing stop 'fast' is not"),
        ({"trail_activation": "2%"}, "Trail from needs a trailing stop"),
    ],
)
def test_a_bad_trail_is_refused_and_nothing_moves(filled, fields, field_text):
    _, _, order = filled
    problems = edit(order, **fields)
    assert field_text in " ".join(problems.values())
    plan = ExitPlan.objects.get(entry=order)
    assert plan.trailing_stop == "" and plan.stop_level == D("784")
    assert by_condition(order)["ltp_lte"].trigger_value == D("784")


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_a_waiting_plan_takes_a_trail_checked_against_the_limit_price(
    trading,  # noqa: F811
):
    account, _ = trading
    order = create_order(
        user=account.user,
        account=account,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=10,
        order_type="LIMIT",
        price=D("800"),
        actor="alice",
        exit_plan=parse_plan(stop_loss="2%"),
    )
    problems = edit(order, trailing_stop="1%", trail_activation="780")
    assert "must be above the entry price ₹800.00" in problems["trail_activation"]
    assert edit(order, trailing_stop="1%", trail_activation="820") == {}
    plan = ExitPlan.objects.get(entry=order)
    assert (plan.trailing_stop, plan.trail_activation) == ("1%", "820")


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_the_orders_page_edit_form_posts_the_trail(filled, client):
    account, _, order = filled
    client.force_login(account.user)
    body = client.get(reverse("orders:orders")).content.decode()
    assert 'name="trailing_stop"' in body and 'name="trail_activation"' in body
    response = client.post(
        reverse("protection:change", args=[order.pk]),
        {"stop_loss": "2%", "target": "10%", "trailing_stop": "10pts", "trail_activation": ""},
    )
    assert response.status_code == 302
    plan = ExitPlan.objects.get(entry=order)
    assert plan.trailing_stop == "10pts" and plan.stop_level == D("790")
    # A form without the trail fields (an older page) leaves the trail as it is.
    client.post(reverse("protection:change", args=[order.pk]), {"stop_loss": "2%", "target": "9%"})
    plan.refresh_from_db()
    assert plan.trailing_stop == "10pts" and plan.target == "9%"


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_a_stop_set_looser_than_the_trail_holds_it_is_refused_not_silently_undone(filled):
    """The second review (H4): a stop edited to 760 was put back to 770.30 by the trail
    3 s later, and the exit fired there, while the page had said 'saved'."""
    _, _, order = filled
    assert edit(order, trailing_stop="1%") == {}  # the trail holds the stop at 792
    problems = edit(order, stop_loss="770", trailing_stop="1%")
    assert "holds the stop at ₹792.00" in problems["stop_loss"]
    assert "change or clear the trailing stop" in problems["stop_loss"]
    plan = ExitPlan.objects.get(entry=order)
    assert plan.stop_loss == "2%" and plan.stop_level == D("792")
    assert by_condition(order)["ltp_lte"].trigger_value == D("792")
    # A stop tighter than the trail's is taken; so is a looser one with the trail cleared.
    assert edit(order, stop_loss="795", trailing_stop="1%") == {}
    assert by_condition(order)["ltp_lte"].trigger_value == D("795")
    # The leg's status says the trigger as it is now, not the one it was armed at
    # (the final check: "sends when … ₹797.20" beside "Stop ₹821.70").
    from orders.presentation import status_cell

    said = status_cell(by_condition(order)["ltp_lte"])["message"]
    assert said.endswith("sends when LTP at or below ₹795.00."), said
    assert edit(order, stop_loss="770", trailing_stop="") == {}
    assert by_condition(order)["ltp_lte"].trigger_value == D("770")
