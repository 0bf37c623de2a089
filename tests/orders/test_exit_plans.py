"""Exit plans: the syntax, the levels from a fill, and where a plan is set (issue 18, 1)."""

import json
from decimal import Decimal as D

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from orders import exit_plans, webhook
from orders.exit_plans import ExitPlanError, Offset, parse_offset, parse_plan
from orders.models import ExitPlan, Order, Strategy
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.orders.test_queue_views import HX, page, post_new  # noqa: F401 (fixtures)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("812.5", "price", "812.5"),
        (812.5, "price", "812.5"),
        ("2%", "percent", "2"),
        (" 1.5 % ", "percent", "1.5"),
        ("15pts", "points", "15"),
        ("15 points", "points", "15"),
        ("15PT", "points", "15"),
        ("1,000", "price", "1000"),  # digit grouping, Western or Indian
        ("1,00,000.5", "price", "100000.5"),
    ],
)
def test_offset_syntax(text, kind, value):
    assert parse_offset(text, field="stop_loss") == Offset(kind, D(value))


@pytest.mark.parametrize("text", ["abc", "-5", "0", "2%%", "5 rupees", "1e3", "150%", "%2"])
def test_malformed_offsets_name_the_field(text):
    with pytest.raises(ExitPlanError) as caught:
        parse_offset(text, field="stop_loss")
    assert caught.value.field == "stop_loss" and "Stop-loss" in caught.value.message


@pytest.mark.parametrize("text", ["-2%", "-5", "- 15pts"])
def test_a_negative_value_is_told_it_must_be_above_zero(text):
    """The second review (L2): "-2%" was told it "is not a price"."""
    with pytest.raises(ExitPlanError) as caught:
        parse_offset(text, field="stop_loss")
    assert caught.value.message == "Stop-loss must be above 0."


@pytest.mark.parametrize("text", ["1,,0", ",5", "1,000,"])
def test_broken_grouping_is_not_a_number(text):
    with pytest.raises(ExitPlanError) as caught:
        parse_offset(text, field="stop_loss")
    assert "is not a price" in caught.value.message


def test_a_huge_value_is_too_large_not_below_zero():
    with pytest.raises(ExitPlanError) as caught:
        parse_offset("99999999999999", field="stop_loss")
    assert caught.value.message == "Stop-loss 99999999999999 is too large to be a price."


def test_a_trail_is_a_distance_and_an_activation_needs_a_trail():
    assert parse_plan(trailing_stop="10").trailing_stop == Offset("points", D(10))
    with pytest.raises(ExitPlanError) as caught:
        parse_plan(stop_loss="2%", trail_activation="1%")
    assert caught.value.field == "trail_activation"
    assert parse_plan(stop_loss="", target=None) is None


def test_levels_from_the_fill_long_and_short_rounded_towards_the_fill():
    tick = D("0.05")
    pct = Offset("percent", D("2"))
    # BUY at 812.30: stop 796.054 -> 796.10 (up, towards the fill), target 828.546 -> 828.50
    assert exit_plans.stop_level(pct, fill=D("812.30"), side="BUY", tick=tick) == D("796.1")
    assert exit_plans.target_level(pct, fill=D("812.30"), side="BUY", tick=tick) == D("828.5")
    # SELL (a short): the stop above, the target below, still towards the fill
    assert exit_plans.stop_level(pct, fill=D("812.30"), side="SELL", tick=tick) == D("828.5")
    assert exit_plans.target_level(pct, fill=D("812.30"), side="SELL", tick=tick) == D("796.1")
    pts = Offset("points", D("15"))
    assert exit_plans.stop_level(pts, fill=D("800"), side="BUY", tick=tick) == D("785")


@given(
    fill=st.decimals(min_value=D("1"), max_value=D("50000"), places=2),
    pct=st.decimals(min_value=D("0.1"), max_value=D("50"), places=2),
    tick=st.sampled_from([D("0.05"), D("0.01"), D("0.1"), D("1")]),
    side=st.sampled_from(["BUY", "SELL"]),
)
def test_levels_are_always_on_the_tick(fill, pct, tick, side):
    offset = Offset("percent", pct)
    for level in (
        exit_plans.stop_level(offset, fill=fill, side=side, tick=tick),
        exit_plans.target_level(offset, fill=fill, side=side, tick=tick),
    ):
        assert level > 0 and (level / tick) == (level / tick).to_integral_value()


def test_protectable_is_whole_lots():
    assert exit_plans.protectable(7, 1) == 7
    assert exit_plans.protectable(130, 50) == 100
    assert exit_plans.protectable(30, 50) == 0


# --- Where a plan is set ---------------------------------------------------------------------


def test_queue_form_stores_the_plan_with_the_entry(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, stop_loss="2%", target="25pts", trailing_stop="1%")
    assert response.status_code == 200
    order = Order.objects.get()
    plan = order.exit_plan
    assert (plan.stop_loss, plan.target, plan.trailing_stop, plan.state) == (
        "2%",
        "25pts",
        "1%",
        "waiting",
    )
    assert order.events.filter(message__startswith="Exit plan: SL 2%").exists()


def test_queue_form_refuses_a_malformed_or_wrong_side_plan_on_its_field(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, stop_loss="two percent")
    body = response.content.decode()
    assert response.status_code == 422 and "Stop-loss &#x27;two percent&#x27; is not" in body
    response = post_new(client, account, order_type="LIMIT", price="800", stop_loss="810")
    assert response.status_code == 422
    assert "must be below the entry price ₹800.00 for a BUY entry" in response.content.decode()
    assert not Order.objects.exists() and not ExitPlan.objects.exists()


def test_editing_a_waiting_entry_changes_or_removes_its_plan(page):  # noqa: F811
    client, account, _ = page
    post_new(client, account, stop_loss="2%")
    order = Order.objects.get()
    url = reverse("orders:queue-edit", args=[order.pk])
    data = {
        "account": account.pk,
        "symbol": "NSE:SBIN",
        "side": "BUY",
        "quantity": 2,
        "order_type": "MARKET",
        "product": "CNC",
    }
    assert 'value="2%"' in client.get(url, headers=HX).content.decode()
    client.post(url, {**data, "stop_loss": "3%", "target": "900"}, headers=HX)
    order.exit_plan.refresh_from_db()
    assert (order.exit_plan.stop_loss, order.exit_plan.target) == ("3%", "900")
    client.post(url, data, headers=HX)
    assert not ExitPlan.objects.filter(entry=order).exists()


def post_trade_from_holding(client, account, plan: dict, **kwargs):
    """Holdings → Trade: buy 1 SBIN CNC at market into the queue, with `plan`."""
    fields = {
        "account": account.pk,
        "symbol": "NSE:SBIN",
        "side": "BUY",
        "quantity": 1,
        "order_type": "MARKET",
        "product": "CNC",
        "then": "queue",
    }
    return client.post(reverse("portfolio:holdings-trade"), {**fields, **plan}, **kwargs)


def test_trade_from_holding_form_takes_a_plan(page):  # noqa: F811
    client, account, _ = page
    response = post_trade_from_holding(client, account, {"stop_loss": "780", "target": "3%"})
    assert response.status_code == 302
    assert Order.objects.get().exit_plan.summary == "SL 780, target 3%"


# --- Webhook and strategy defaults ------------------------------------------------------------


@pytest.fixture
def hook(trading):  # noqa: F811
    account, peer = trading
    token = webhook.issue_token(account.user)
    strategy = Strategy.objects.create(user=account.user, name="Breakout", mode="MANUAL")
    return account, token, strategy


def _post(client, token, **details):
    body = {
        "strategy_name": "Breakout",
        "symbol": "NSE:SBIN",
        "trade_details": {"order_action": "buy", "quantity": "2", **details},
    }
    response = client.post(
        reverse("tradingview-webhook", args=[token]),
        data=json.dumps(body),
        content_type="text/plain",
    )
    return response.status_code, json.loads(response.content)


def test_webhook_exit_plan_fields(client, hook):
    _, token, _ = hook
    status, body = _post(
        client, token, stop_loss=790, target="3%", trailing_stop="10", trail_activation="1%"
    )
    assert status == 202
    plan = Order.objects.get(pk=body["order_id"]).exit_plan
    assert (plan.stop_loss, plan.target, plan.trailing_stop, plan.trail_activation) == (
        "790",
        "3%",
        "10pts",
        "1%",
    )


@pytest.mark.parametrize(
    ("details", "said"),
    [
        ({"stop_loss": "lots"}, "trade_details.stop_loss"),
        ({"target": [1]}, "trade_details.target must be"),
        ({"trail_activation": "2%"}, "Trail from needs a trailing stop"),
        ({"trailing_stop": True}, "trade_details.trailing_stop must be"),
    ],
)
def test_webhook_malformed_exit_plan_is_a_clear_400(client, hook, details, said):
    _, token, _ = hook
    status, body = _post(client, token, **details)
    assert status == 400 and said in body["error"]
    assert not Order.objects.exists()


def test_strategy_default_plan_applies_unless_the_alert_has_one(client, hook):
    _, token, strategy = hook
    Strategy.objects.filter(pk=strategy.pk).update(default_stop_loss="1.5%", default_target="40pts")
    _, body = _post(client, token)
    assert Order.objects.get(pk=body["order_id"]).exit_plan.summary == "SL 1.5%, target 40pts"
    # Each part the alert leaves blank is the strategy's default (as the form's help says).
    _, body = _post(client, token, stop_loss="5pts", quantity="3")  # not a duplicate
    assert Order.objects.get(pk=body["order_id"]).exit_plan.summary == "SL 5pts, target 40pts"


def test_an_alerts_trail_start_uses_the_strategys_default_trail(client, hook):
    """The second review (M4): an alert with only trail_activation was refused 400 'Trail
    from needs a trailing stop' although its strategy has a 1% trail."""
    _, token, strategy = hook
    Strategy.objects.filter(pk=strategy.pk).update(
        default_stop_loss="2%", default_trailing_stop="1%"
    )
    status, body = _post(client, token, trail_activation="2%")
    assert status == 202, body
    plan = Order.objects.get(pk=body["order_id"]).exit_plan
    assert plan.summary == "SL 2%, trail 1% from 2%" or (
        plan.trailing_stop,
        plan.trail_activation,
    ) == ("1%", "2%")
    # With no trail anywhere, the start alone is refused, naming the field.
    strategy.refresh_from_db()
    strategy.default_trailing_stop = ""
    strategy.save()  # (the webhook's route cache follows a save, not a queryset update)
    status, body = _post(client, token, trail_activation="2%", quantity="3")
    assert status == 400 and "trade_details.trail_activation" in body["fields"]


def test_a_shorts_target_of_100_percent_or_more_is_refused(client, hook):
    """The second review (M2): a SELL entry's 150% target was armed at ₹0.05."""
    _, token, _ = hook
    status, body = _post(client, token, order_action="sell", product="MIS", target="150%")
    assert status == 400
    assert "would be at or below zero" in body["fields"]["trade_details.target"]
    assert not Order.objects.exists()
    status, _ = _post(client, token, target="150%")  # a long's 150% target is fine
    assert status == 202


def test_an_exit_plan_on_a_delivery_sale_is_said_not_dropped_silently(client, hook):
    """The second review (M5): the plan of an alert that sells delivery was dropped
    without a word; the sale still goes (an alert is never dropped for its plan)."""
    _, token, _ = hook
    status, body = _post(client, token, order_action="sell", product="CNC", stop_loss="1%")
    assert status == 202 and "a delivery (CNC) sale closes a holding" in body["note"]
    order = Order.objects.get(pk=body["order_id"])
    assert not hasattr(order, "exit_plan") or order.exit_plan is None
    assert order.events.filter(message__contains="The exit plan was not used").exists()


def test_strategy_form_checks_and_normalises_the_default_plan(client, hook):
    account, _, strategy = hook
    from orders.forms import StrategyForm

    base = {
        "name": "Swing",
        "mode": "MANUAL",
        "enabled": "on",
        "default_product": "CNC",
        "default_order_type": "MARKET",
        "default_quantity": 1,
    }
    form = StrategyForm({**base, "default_stop_loss": "bad"}, user=account.user)
    assert not form.is_valid() and "default_stop_loss" in form.errors
    form = StrategyForm({**base, "default_trailing_stop": "15 points"}, user=account.user)
    assert form.is_valid(), form.errors
    form.instance.user = account.user
    assert form.save().default_trailing_stop == "15pts"


def test_alert_message_documents_the_exit_fields(client, hook):
    account, _, _ = hook
    client.force_login(account.user)
    body = client.get(reverse("settings")).content.decode()
    for name in ("stop_loss", "target", "trailing_stop", "trail_activation"):
        assert f"&quot;{name}&quot;" in body or f'"{name}"' in body


def test_a_delivery_sale_carries_no_exit_plan(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, side="SELL", product="CNC", stop_loss="2%")
    assert response.status_code == 422 and "closes a holding" in response.content.decode()
    response = post_new(client, account, side="SELL", product="MIS", stop_loss="2%")
    assert response.status_code == 200 and Order.objects.get().exit_plan.stop_loss == "2%"


def test_the_queue_row_says_what_exits_the_entry_carries(page):  # noqa: F811
    client, account, _ = page
    post_new(client, account, stop_loss="2%", target="900")
    body = client.get(reverse("orders:queue")).content.decode()
    assert "exits: SL 2%, target 900" in body


def test_exit_conditions_are_the_order_conditions():
    from orders.models import Order as O

    assert exit_plans.stop_condition("BUY") == O.Condition.LTP_AT_OR_BELOW
    assert exit_plans.stop_condition("SELL") == O.Condition.LTP_AT_OR_ABOVE
    assert exit_plans.target_condition("BUY") == O.Condition.LTP_AT_OR_ABOVE


def test_a_bad_trailing_stop_is_told_it_is_a_distance_not_a_price():
    """Review 8: "'1.2.3' is not a price (812.5)…" for a trailing stop, a distance."""
    with pytest.raises(ExitPlanError) as caught:
        parse_offset("1.2.3", field="trailing_stop", distance_only=True)
    assert "a distance to trail by" in caught.value.message
    assert "price" not in caught.value.message
