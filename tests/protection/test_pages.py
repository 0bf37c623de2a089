"""The Orders page shows an entry with its exit pair, the stop now, where the exits live;
the plan can be changed or cancelled there (issue 18, item 5)."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from orders.models import ExitPlan
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.protection.helpers import by_condition, entry, legs, send, sync


@pytest.fixture
def filled(trading, client, django_capture_on_commit_callbacks):  # noqa: F811
    account, peer = trading
    client.force_login(account.user)
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    order = send(entry(account, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    return client, account, peer, order


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_orders_page_shows_the_exit_pair_and_where_it_lives(filled):
    client, account, _, order = filled
    body = client.get(reverse("orders:orders")).content.decode()
    assert f'id="exit-plan-{order.pk}"' in body
    assert 'Stop <strong class="exit-stop">₹784.00</strong>' in body
    assert 'Target <strong class="exit-target">₹824.00</strong>' in body
    if account.adapter_class.capabilities.gtt:
        assert "Held at the broker (GTT " in body
    else:
        assert "Managed by SigmaTrader (needs the app running)" in body
    for leg in legs(order):
        assert f'Protective exit of <a href="#order-{order.pk}">#{order.pk}</a>' in body
        assert f'id="order-{leg.pk}"' in body


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_change_the_stop_from_the_orders_page(filled):
    client, account, peer, order = filled
    response = client.post(
        reverse("protection:change", args=[order.pk]), {"stop_loss": "795", "target": "3%"}
    )
    assert response.status_code == 302
    stop = by_condition(order)["ltp_lte"]
    assert stop.status == "ARMED" and stop.trigger_value == D("795")
    assert by_condition(order)["ltp_gte"].trigger_value == D("824")  # untouched
    assert ExitPlan.objects.get(entry=order).stop_level == D("795")
    if stop.gtt_id:
        assert peer.user.book.gtts[int(stop.gtt_id)]["condition"]["trigger_values"][0] == 795.0


@pytest.mark.parametrize("trading", ["zerodha", "angelone"], indirect=True)
def test_cancel_the_protection_from_the_orders_page(filled):
    client, account, peer, order = filled
    client.post(reverse("protection:cancel", args=[order.pk]))
    assert {leg.status for leg in legs(order)} == {"CANCELLED"}
    assert ExitPlan.objects.get(entry=order).state == "cancelled"
    if account.adapter_class.capabilities.gtt:
        assert all(g["status"] == "deleted" for g in peer.user.book.gtts.values())


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_another_users_plan_is_not_reachable(filled, other_user, client):
    _, _, _, order = filled
    client.force_login(other_user)
    response = client.post(reverse("protection:cancel", args=[order.pk]))
    assert response.status_code == 404
    assert ExitPlan.objects.get(entry=order).state == "active"


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_arming_and_an_unprotected_entry_are_toasts(
    trading,  # noqa: F811
    client,
    settings,
    django_capture_on_commit_callbacks,
):
    from emulator.state import Fault

    account, peer = trading
    client.force_login(account.user)
    HX = {"HX-Request": "true"}

    def toasts():
        return client.get(reverse("live-toasts"), headers=HX).content.decode()

    toasts()  # the cursor starts now
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    armed = send(entry(account, stop_loss="2%", target="3%"))
    sync(account, django_capture_on_commit_callbacks)
    body = toasts()
    assert body.count("<strong>Protection armed</strong>") == 1  # one per pair
    assert "Order executed" in body
    settings.PROTECTION_MAX_RETRIES = 0
    refused = send(entry(account, stop_loss="2%", quantity=3))
    peer.server.state.inject(peer.wire, "gtt", Fault("expired_token", times=3))
    sync(account, django_capture_on_commit_callbacks)
    body = toasts()
    assert "Not protected" in body and f"Order #{refused.pk}" in body
    assert armed.pk != refused.pk


@pytest.mark.parametrize("trading", ["angelone"], indirect=True)
def test_the_live_poll_sends_an_exit_cell_only_when_it_changed_and_only_its_owners(
    filled, other_user
):
    from protection.exits import trailing

    client, account, _, order = filled
    body = client.get(reverse("orders:orders")).content.decode()
    token = body.split('class="exit-live" name="exits" value="', 1)[1].split('"', 1)[0]
    assert token.startswith(f"{order.pk}.")

    def poll(exits):
        data = {"page": "orders", "exits": exits}
        response = client.get(reverse("live-orders"), data, headers={"HX-Request": "true"})
        return response.content.decode()

    assert f'id="exit-plan-{order.pk}"' not in poll(token)  # unchanged: nothing sent
    ExitPlan.objects.filter(entry=order).update(trailing_stop="1%")
    trailing.trail_one(ExitPlan.objects.get(entry=order), price=D("850"))
    body = poll(token)
    assert f'id="exit-plan-{order.pk}" hx-swap-oob="true"' in body
    assert 'Stop <strong class="exit-stop">₹841.50</strong>' in body
    client.force_login(other_user)
    assert f'id="exit-plan-{order.pk}"' not in poll(token)  # another user's: never
