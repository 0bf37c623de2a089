"""The cached token → endpoint/strategy/account routes follow every change."""

from django.urls import reverse

from brokers import accounts
from orders import webhook, webhook_routes
from orders.models import Order, Strategy
from sigmatrader import counters
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.orders.test_webhook import alert, eager, hook, post  # noqa: F401 (fixtures)


def second_account(account):
    other = accounts.create_account(
        user=account.user, broker=account.broker, label="second", credentials=account.credentials
    )
    other.session, other.status = account.session, "connected"
    other.save()
    return other


def test_a_rotated_token_stops_working_at_once(client, hook):  # noqa: F811
    account, _, old_token, _ = hook
    assert post(client, old_token, alert(bar_time="1"))[0] == 202  # the route is now cached
    client.force_login(account.user)
    card = client.post(reverse("orders:webhook-rotate")).content.decode()
    new_token = card.split("/webhooks/tradingview/")[1].split("/")[0]
    assert post(client, old_token, alert(bar_time="2"))[0] == 404
    assert post(client, new_token, alert(bar_time="3"))[0] == 202


def test_a_new_secret_is_required_at_once(client, hook):  # noqa: F811
    account, _, token, _ = hook
    assert post(client, token, alert(bar_time="1"))[0] == 202
    webhook.set_secret(account.user, "s3cret-value")
    assert post(client, token, alert(bar_time="2"))[0] == 403
    assert post(client, token, alert(bar_time="3", secret="s3cret-value"))[0] == 202


def test_strategy_edits_apply_to_the_next_alert(client, hook):  # noqa: F811
    account, _, token, strategy = hook
    assert post(client, token, alert(bar_time="1"))[0] == 202
    other = second_account(account)
    client.force_login(account.user)
    response = client.post(
        reverse("orders:strategy-edit", args=[strategy.pk]),
        {
            "name": "Breakout",
            "account": other.pk,
            "mode": "MANUAL",
            "enabled": "",  # disabled
            "default_product": "CNC",
            "default_order_type": "MARKET",
            "default_quantity": 5,
            "dedup_window_seconds": 3600,
            "dedup_unkeyed_window_seconds": 5,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    strategy.refresh_from_db()
    assert not strategy.enabled and strategy.account == other, response.content.decode()[:500]
    status, body = post(client, token, alert(bar_time="2"))
    assert status == 422 and "disabled" in body["error"]
    client.post(reverse("orders:strategy-toggle", args=[strategy.pk]))
    strategy.refresh_from_db()
    assert strategy.enabled
    status, body = post(client, token, alert(bar_time="3", trade_details={"quantity": ""}))
    assert status == 202
    order = Order.objects.get(pk=body["order_id"])
    assert order.account == other and order.quantity == 5


def test_new_and_deleted_strategies_are_seen_at_once(client, hook):  # noqa: F811
    account, _, token, _ = hook
    assert post(client, token, alert(strategy_name="Later"))[0] == 422
    later = Strategy.objects.create(user=account.user, name="Later", mode="MANUAL")
    assert post(client, token, alert(strategy_name="Later"))[0] == 202
    later.delete()
    assert post(client, token, alert(strategy_name="Later", bar_time="x"))[0] == 422


def test_a_new_default_account_takes_unbound_strategies_at_once(client, hook):  # noqa: F811
    account, _, token, _ = hook
    status, body = post(client, token, alert(bar_time="1"))
    assert Order.objects.get(pk=body["order_id"]).account == account
    other = second_account(account)
    assert post(client, token, alert(bar_time="1b"))[0] == 202  # cached again, after the save
    accounts.make_default(account=other)  # written with .update(): no post_save
    status, body = post(client, token, alert(bar_time="2"))
    assert status == 202 and Order.objects.get(pk=body["order_id"]).account == other


def test_a_bump_from_another_process_reloads_the_route(client, hook):  # noqa: F811
    """Another process's change arrives as a new generation only (no signal here)."""
    _, _, token, strategy = hook
    assert post(client, token, alert(bar_time="1"))[0] == 202
    Strategy.objects.filter(pk=strategy.pk).update(enabled=False)  # no signal
    before = counters.generation(webhook_routes.GENERATION)
    counters.bump_generation(webhook_routes.GENERATION)
    assert counters.generation(webhook_routes.GENERATION) != before
    status, body = post(client, token, alert(bar_time="2"))
    assert status == 422 and "disabled" in body["error"]


def test_the_route_cache_holds_no_broker_secrets(client, hook):  # noqa: F811
    account, _, token, _ = hook
    post(client, token, alert())
    route = webhook_routes.lookup(webhook.digest(token))
    loaded = [route.default_account, *(s.account for s in route.strategies.values() if s.account)]
    for cached in loaded:
        assert cached is not None
        deferred = cached.get_deferred_fields()
        assert {"session", "credentials"} <= deferred


def test_a_rate_counter_that_cannot_be_kept_is_not_a_500(client, hook, monkeypatch):  # noqa: F811
    _, _, token, _ = hook

    def full_disk(key, ttl):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(counters, "hit", full_disk)
    assert post(client, token, alert())[0] == 202
