"""Every bad exit field is reported at once, each at its field (issue 18 leftovers): the
parser, the queue form, the trade-from-holding form, a strategy's default plan, the
Orders page's plan edit and the webhook's 400 body."""

import json

import pytest
from django.urls import reverse

from orders import exit_plans
from orders.exit_plans import ExitPlanError, parse_plan
from orders.forms import StrategyForm
from orders.models import ExitPlan, Order
from tests.orders.test_exit_plans import (  # noqa: F401 (the fixture)
    _post,
    hook,
    post_trade_from_holding,
)
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.orders.test_queue_views import HX, page, post_new  # noqa: F401 (fixtures)

BAD = {"stop_loss": "lots", "target": "-3", "trailing_stop": "fast", "trail_activation": "x%"}


def test_the_parser_names_every_bad_part():
    with pytest.raises(ExitPlanError) as caught:
        parse_plan(**BAD)
    errors = caught.value.errors
    assert list(errors) == list(exit_plans.FIELDS)
    assert "Stop-loss 'lots' is not" in errors["stop_loss"]
    assert errors["target"] == "Target must be above 0."  # "-3": a number, below 0
    assert "Trailing stop 'fast' is not" in errors["trailing_stop"]
    assert "Trail from 'x%' is not" in errors["trail_activation"]
    assert caught.value.field == "stop_loss"  # the first, for callers that show one place
    assert all(message in caught.value.message for message in errors.values())


def test_both_levels_on_the_wrong_side_are_named():
    plan = parse_plan(stop_loss="810", target="790", trailing_stop="1%", trail_activation="780")
    with pytest.raises(ExitPlanError) as caught:
        exit_plans.check_against(plan, side="BUY", reference=exit_plans.Decimal("800"))
    assert set(caught.value.errors) == {"stop_loss", "target", "trail_activation"}


def _errors_at(body: str) -> dict[str, bool]:
    return {
        "stop_loss": "Stop-loss &#x27;lots&#x27; is not" in body,
        "target": "Target must be above 0." in body,
        "trailing_stop": "Trailing stop &#x27;fast&#x27; is not" in body,
        "trail_activation": "Trail from &#x27;x%&#x27; is not" in body,
    }


def test_the_queue_form_shows_every_bad_field(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, **BAD)
    assert response.status_code == 422
    assert all(_errors_at(response.content.decode()).values())
    assert not Order.objects.exists()


def test_the_queue_form_shows_a_wrong_side_stop_and_target_together(page):  # noqa: F811
    client, account, _ = page
    response = post_new(
        client, account, order_type="LIMIT", price="800", stop_loss="810", target="790"
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Stop-loss 810 must be below the entry price ₹800.00" in body
    assert "Target 790 must be above the entry price ₹800.00" in body


def test_the_trade_from_holding_form_shows_every_bad_field(page):  # noqa: F811
    client, account, _ = page
    response = post_trade_from_holding(client, account, BAD, headers=HX)
    assert response.status_code == 422
    assert all(_errors_at(response.content.decode()).values())
    assert not Order.objects.exists()


def test_a_strategy_default_plan_shows_every_bad_field(hook):  # noqa: F811
    account, _, _ = hook
    form = StrategyForm(
        {
            "name": "Swing",
            "mode": "MANUAL",
            "enabled": "on",
            "default_product": "CNC",
            "default_order_type": "MARKET",
            "default_quantity": 1,
            **{f"default_{name}": text for name, text in BAD.items()},
        },
        user=account.user,
    )
    assert not form.is_valid()
    assert {f"default_{name}" for name in BAD} <= set(form.errors)


def test_the_webhook_400_lists_every_bad_trade_detail(client, hook):  # noqa: F811
    _, token, _ = hook
    status, body = _post(client, token, stop_loss="lots", target=[1], trailing_stop=True)
    assert status == 400
    assert set(body["fields"]) == {
        "trade_details.stop_loss",
        "trade_details.target",
        "trade_details.trailing_stop",
    }
    assert "trade_details.target must be" in body["fields"]["trade_details.target"]
    for message in body["fields"].values():
        assert message in body["error"]
    assert not Order.objects.exists()
    json.dumps(body)  # plain JSON


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_the_orders_page_edit_shows_every_bad_field_at_its_field(
    trading,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    from tests.protection.helpers import entry, send, sync

    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    client.force_login(account.user)
    response = client.post(reverse("protection:change", args=[order.pk]), BAD, headers=HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert all(_errors_at(body).values())
    for name in BAD:  # each error sits with its input, which keeps what was typed
        assert f'aria-describedby="exit-{order.pk}-{name}-error"' in body
        assert f'id="exit-{order.pk}-{name}-error"' in body
    assert 'value="lots"' in body and '<details class="exit-edit" open>' in body
    plan = ExitPlan.objects.get(entry=order)
    assert (plan.stop_loss, plan.target, plan.trailing_stop) == ("2%", "3%", "")
    # A good change answers with the cell, saved.
    response = client.post(
        reverse("protection:change", args=[order.pk]),
        {"stop_loss": "2%", "target": "4%", "trailing_stop": "", "trail_activation": ""},
        headers=HX,
    )
    assert response.status_code == 200 and "exit plan saved" in response.content.decode()
    assert ExitPlan.objects.get(entry=order).target == "4%"
