"""Risk rules, clamp and reject, valued at LTP for MARKET, exits allowed with shorting off."""

from decimal import Decimal

import pytest

from orders import risk
from orders.execution import execute
from orders.models import RiskPolicy
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)


@pytest.fixture
def account(trading):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    return account, peer


def policy(user, **limits):
    return RiskPolicy.objects.create(user=user, **limits)


def test_no_policy_allows(account):
    acct, _ = account
    assert risk.evaluate(new(acct)).allowed


def test_market_orders_are_valued_at_ltp(account):
    acct, _ = account
    policy(acct.user, max_order_value=Decimal("10000"))
    decision = risk.evaluate(new(acct, quantity=20))  # 20 x 800 = 16,000 > 10,000
    assert (
        not decision.allowed
        and "value ₹16,000.00 is above the limit ₹10,000.00" in decision.summary
    )
    assert Decimal(decision.numbers["price"]) == 800


def test_limit_orders_are_valued_at_their_price(account):
    acct, _ = account
    policy(acct.user, max_order_value=Decimal("10000"))
    assert risk.evaluate(new(acct, quantity=20, order_type="LIMIT", price=Decimal("400"))).allowed


def test_clamp_reduces_quantity_to_fit_the_value(account):
    acct, peer = account
    policy(acct.user, max_order_value=Decimal("10000"), mode="clamp")
    order = execute(order=new(acct, quantity=20), actor="alice")
    assert order.status == "SENT" and order.quantity == 12  # 12 x 800 = 9,600
    assert "quantity reduced to 12" in order.risk_note
    assert peer.user.book.orders[order.broker_order_id].quantity == 12


def test_max_quantity_reject_and_clamp(account):
    acct, _ = account
    rule = policy(acct.user, max_quantity=5)
    assert "quantity 8 is above the limit 5" in risk.evaluate(new(acct, quantity=8)).summary
    rule.mode = "clamp"
    rule.save()
    decision = risk.evaluate(new(acct, quantity=8))
    assert decision.allowed and decision.quantity == 5


def test_max_orders_per_day(account):
    acct, _ = account
    policy(acct.user, max_orders_per_day=2)
    for _ in range(2):
        assert execute(order=new(acct, quantity=1), actor="alice").status == "SENT"
    third = execute(order=new(acct, quantity=1), actor="alice")
    assert (
        third.status == "FAILED" and "2 orders already sent today (limit 2)" in third.status_message
    )


def test_allow_and_deny_lists(account):
    acct, _ = account
    rule = policy(acct.user, denied_symbols="SBIN\nITC")
    assert "SBIN is on your deny list" in risk.evaluate(new(acct)).summary
    rule.denied_symbols, rule.allowed_symbols = "", "INFY, TCS"
    rule.save()
    assert "SBIN is not on your allow list" in risk.evaluate(new(acct)).summary
    assert risk.evaluate(new(acct, "INFY")).allowed


def test_short_selling_off_still_allows_exits(account):
    acct, peer = account
    policy(acct.user, allow_short_selling=False)
    assert execute(order=new(acct, quantity=5), actor="alice").status == "SENT"  # now hold 5
    exit_order = new(acct, side="SELL", quantity=5)
    assert risk.evaluate(exit_order).allowed
    too_many = risk.evaluate(new(acct, side="SELL", quantity=6))
    assert not too_many.allowed and "would go short: 5 held" in too_many.summary
    nothing = risk.evaluate(new(acct, "INFY", side="SELL", quantity=1))
    assert not nothing.allowed and "0 held" in nothing.summary


def test_short_selling_clamp_sells_what_is_held(account):
    acct, _ = account
    policy(acct.user, allow_short_selling=False, mode="clamp")
    execute(order=new(acct, quantity=3), actor="alice")
    decision = risk.evaluate(new(acct, side="SELL", quantity=10))
    assert decision.allowed and decision.quantity == 3


def test_short_selling_allowed(account):
    acct, _ = account
    policy(acct.user, allow_short_selling=True)
    assert risk.evaluate(new(acct, "INFY", side="SELL", quantity=1, product="MIS")).allowed


def test_max_open_positions(account):
    acct, _ = account
    policy(acct.user, max_open_positions=1)
    assert execute(order=new(acct, quantity=1), actor="alice").status == "SENT"  # SBIN open
    blocked = risk.evaluate(new(acct, "INFY", quantity=1))
    assert not blocked.allowed and "1 positions already open (limit 1)" in blocked.summary
    assert risk.evaluate(new(acct, quantity=1)).allowed  # adding to an open position is fine


def test_no_price_means_no_market_order_past_a_value_limit(account):
    acct, peer = account
    policy(acct.user, max_order_value=Decimal("10000"))
    peer.server.state.market.set_price("NSE", "SBIN", "0")
    decision = risk.evaluate(new(acct, quantity=1))
    assert not decision.allowed and "no price is available" in decision.summary


def test_decision_is_recorded_and_shown_on_the_order(account):
    acct, _ = account
    policy(acct.user, max_quantity=1)
    order = execute(order=new(acct, quantity=3), actor="alice")
    assert order.status == "FAILED" and order.risk_note.startswith("Blocked by risk policy")
    event = order.events.get(kind="risk")
    assert event.details["allowed"] is False and event.details["quantity"] == 3


def test_clamping_rounds_down_to_whole_lots():
    assert risk._floor_to_lot(200, 75) == 150 and risk._floor_to_lot(74, 75) == 0


def test_settings_edits_the_users_own_policy(client, user, other_user):
    client.force_login(user)
    from django.urls import reverse

    assert "Risk limits" in client.get(reverse("settings")).content.decode()
    client.post(
        reverse("orders:risk-policy"),
        {
            "max_order_value": "50000",
            "max_quantity": "100",
            "mode": "clamp",
            "allowed_symbols": "",
            # No instrument list is loaded here: a symbol would be refused as unknown
            # (tests/orders/test_risk_validation.py checks lists against loaded instruments).
            "denied_symbols": "",
        },
    )
    policy = RiskPolicy.objects.get(user=user)
    assert policy.max_order_value == Decimal("50000") and policy.mode == "clamp"
    assert not RiskPolicy.objects.filter(user=other_user).exists()
    response = client.post(reverse("orders:risk-policy"), {"max_quantity": "-3", "mode": "reject"})
    # Not saved: the page again, the error next to the field (it used to redirect with a flash).
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="risk"' in body and 'value="-3"' in body and "field-error" in body
    policy.refresh_from_db()
    assert policy.max_quantity == 100  # the bad value was refused, nothing half-written


def test_a_strategys_override_replaces_the_users_policy(account):
    from orders.models import Strategy

    acct, _ = account
    policy(acct.user, max_quantity=1)
    strategy = Strategy.objects.create(user=acct.user, name="Scalper")
    RiskPolicy.objects.create(user=acct.user, strategy=strategy, max_quantity=50)
    plain = new(acct, quantity=10)
    assert not risk.evaluate(plain).allowed  # the user's limit of 1
    from_strategy = new(acct, quantity=10)
    from_strategy.strategy = strategy
    assert risk.evaluate(from_strategy).allowed  # the strategy's override of 50
