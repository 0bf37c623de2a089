"""Risk limits refuse bad values: negative or zero limits, malformed or unknown
symbols (named in the error), on the Settings form and a strategy's override;
good entries are normalised and still match orders."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders import risk
from orders.models import RiskPolicy, Strategy
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)


@pytest.fixture
def acct(trading):  # noqa: F811
    account, peer = trading
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    return account


def post_policy(client, **values):
    data = {"mode": "reject", "allowed_symbols": "", "denied_symbols": "", **values}
    return client.post(reverse("orders:risk-policy"), data)


def test_negative_or_zero_limits_are_refused_and_nothing_saved(client, acct):
    client.force_login(acct.user)
    for field, value in (
        ("max_order_value", "-100"),
        ("max_order_value", "0"),
        ("max_quantity", "0"),
        ("max_orders_per_day", "-1"),
        ("max_open_positions", "-2"),
    ):
        response = post_policy(client, **{field: value})
        assert response.status_code == 422, (field, value)
        assert "Risk limits saved" not in response.content.decode()
    assert not RiskPolicy.objects.filter(user=acct.user).exists()


def test_symbols_are_parsed_upper_cased_and_checked_against_the_instruments(client, acct):
    client.force_login(acct.user)
    response = post_policy(client, allowed_symbols="sbin\nNOTASYMBOL\n;;DROP TABLE")
    body = response.content.decode()
    assert response.status_code == 422
    assert "DROP TABLE" in body and "Not a symbol" in body
    assert not RiskPolicy.objects.filter(user=acct.user).exists()
    response = post_policy(client, allowed_symbols="sbin, NOTASYMBOL, BSE:INFYX")
    body = response.content.decode()
    assert response.status_code == 422
    assert "NOTASYMBOL" in body and "BSE:INFYX" in body and "instrument list" in body
    assert not RiskPolicy.objects.filter(user=acct.user).exists()

    response = post_policy(client, allowed_symbols="sbin, nse:infy", denied_symbols=" itc ")
    assert response.status_code == 302
    policy = RiskPolicy.objects.get(user=acct.user)
    assert policy.allowed_symbols == "SBIN\nNSE:INFY" and policy.denied_symbols == "ITC"
    # Both forms of entry still match orders.
    assert risk.evaluate(new(acct)).allowed
    assert risk.evaluate(new(acct, "INFY")).allowed
    assert "TCS is not on your allow list" in risk.evaluate(new(acct, "TCS")).summary


def test_a_strategys_override_is_checked_the_same_way(client, acct):
    client.force_login(acct.user)
    strategy = Strategy.objects.create(user=acct.user, name="Scalper")
    url = reverse("orders:strategy-edit", args=[strategy.pk])
    data = {
        "name": "Scalper",
        "mode": strategy.mode,
        "enabled": "on",
        "default_product": strategy.default_product,
        "default_order_type": strategy.default_order_type,
        "default_quantity": strategy.default_quantity,
        "risk-override": "on",
        "risk-mode": "reject",
    }
    bad = client.post(url, {**data, "risk-max_order_value": "-100"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    bad = client.post(url, {**data, "risk-allowed_symbols": "NOTASYMBOL"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and "NOTASYMBOL" in bad.content.decode()
    assert not RiskPolicy.objects.filter(strategy=strategy).exists()
    good = client.post(
        url,
        {**data, "risk-max_order_value": "5000", "risk-allowed_symbols": "sbin"},
        HTTP_HX_REQUEST="true",
    )
    assert good.status_code == 200
    override = RiskPolicy.objects.get(strategy=strategy)
    assert override.allowed_symbols == "SBIN" and override.max_order_value == Decimal("5000")
