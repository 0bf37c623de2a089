"""Duplicate alerts: the key and the window are the strategy's, visible, and a dropped
duplicate says what it repeats (issue 13, item 14)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from orders.models import AlertClaim, Order, Strategy, WebhookAlert
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.orders.test_webhook import alert, eager, hook, post  # noqa: F401, F811 (fixtures)


def bare(**overrides):
    """An alert with neither alert_id nor bar_time."""
    body = alert(**overrides)
    body.pop("bar_time", None)
    return body


def age_claims(seconds):
    AlertClaim.objects.update(claimed_at=timezone.now() - timedelta(seconds=seconds))


def test_without_ids_the_window_is_short_by_default(client, hook):  # noqa: F811
    _, _, token, strategy = hook
    assert strategy.dedup_unkeyed_window_seconds == 60
    first = post(client, token, bare())
    again = post(client, token, bare())  # a redelivery seconds later: still one order
    assert (first[0], again[0]) == (202, 200)
    age_claims(61)  # a minute later, the same-looking alert is a new signal
    assert post(client, token, bare())[0] == 202
    assert Order.objects.count() == 2


def test_a_repeated_alert_id_with_other_content_is_a_new_alert(client, hook):  # noqa: F811
    _, _, token, _ = hook
    assert post(client, token, alert(alert_id="tv-7"))[0] == 202
    assert post(client, token, alert(alert_id="tv-7"))[0] == 200
    assert post(client, token, alert(alert_id="tv-7", trade_details={"quantity": "5"}))[0] == 202
    limit = alert(alert_id="tv-7", trade_details={"order_type": "LIMIT", "price": "500"})
    assert post(client, token, limit)[0] == 202
    other_price = alert(alert_id="tv-7", trade_details={"order_type": "LIMIT", "price": "501"})
    assert post(client, token, other_price)[0] == 202
    assert sorted(Order.objects.values_list("quantity", flat=True)) == [2, 2, 2, 5]


def test_a_dropped_duplicate_says_what_it_repeats_on_the_alerts_page(client, hook):  # noqa: F811
    account, _, token, _ = hook
    status, first = post(client, token, alert(alert_id="tv-42"))
    status, again = post(client, token, alert(alert_id="tv-42"))
    assert status == 200 and again["alert_id"] == first["alert_id"]
    assert "alert_id tv-42" in again["key"] and again["window_seconds"] == 24 * 3600
    dropped = WebhookAlert.objects.get(outcome="duplicate")
    assert dropped.duplicate_of_id == first["alert_id"]
    assert dropped.reason.startswith(f"Duplicate of alert #{first['alert_id']}, key alert_id tv-42")
    assert "window 24 h" in dropped.reason
    client.force_login(account.user)
    page = client.get(reverse("orders:alerts")).content.decode()
    assert f"Duplicate of alert #{first['alert_id']}" in page and "window 24 h" in page


def test_windows_are_set_per_strategy_in_settings(client, hook):  # noqa: F811
    account, _, token, strategy = hook
    client.force_login(account.user)
    form = client.get(reverse("orders:strategy-edit", args=[strategy.pk])).content.decode()
    assert 'name="dedup_window_seconds"' in form and 'name="dedup_unkeyed_window_seconds"' in form
    fields = {
        "name": "Breakout",
        "mode": "MANUAL",
        "enabled": "on",
        "default_product": "CNC",
        "default_order_type": "MARKET",
        "default_quantity": 1,
        "risk-mode": "",
    }
    card = client.post(
        reverse("orders:strategy-edit", args=[strategy.pk]),
        {**fields, "dedup_window_seconds": "300", "dedup_unkeyed_window_seconds": "0"},
    ).content.decode()
    strategy.refresh_from_db()
    assert (strategy.dedup_window_seconds, strategy.dedup_unkeyed_window_seconds) == (300, 0)
    assert "5 min with alert_id/bar_time" in card and "never without" in card
    # 0: every delivery without ids is an order.
    assert [post(client, token, bare())[0] for _ in range(2)] == [202, 202]
    # 300 s: an alert_id repeats after 301 s count again.
    post(client, token, alert(alert_id="tv-1"))
    age_claims(301)
    assert post(client, token, alert(alert_id="tv-1"))[0] == 202
    # Left empty in the form: the windows stay as they are.
    client.post(reverse("orders:strategy-edit", args=[strategy.pk]), fields)
    strategy.refresh_from_db()
    assert (strategy.dedup_window_seconds, strategy.dedup_unkeyed_window_seconds) == (300, 0)
    assert Strategy.objects.get(pk=strategy.pk).dedup_summary.startswith("5 min")


def test_a_duplicate_with_a_lone_surrogate_in_its_alert_id_is_recorded(client, hook):  # noqa: F811
    _, _, token, _ = hook
    body = '{"strategy_name": "Breakout", "symbol": "NSE:SBIN", "alert_id": "x\\ud800y", "trade_details": {"order_action": "buy", "quantity": 1}}'
    first = post(client, token, body)
    again = post(client, token, body)
    if first[0] == 400:  # refused at parsing: nothing to deduplicate
        return
    assert (first[0], again[0]) == (202, 200)
    assert "alert_id x\\ud800y" in WebhookAlert.objects.get(outcome="duplicate").reason


def test_claims_made_before_the_upgrade_still_catch_a_redelivery(client, hook):  # noqa: F811
    import importlib

    from django.apps import apps

    _, _, token, _ = hook
    for body in (alert(alert_id="tv-old"), bare(), alert(trade_details={"price": "12.50"})):
        assert post(client, token, body)[0] == 202
    for n, claim in enumerate(AlertClaim.objects.all()):  # keys in the old form
        AlertClaim.objects.filter(pk=claim.pk).update(key=f"{n:064d}")
    migration = importlib.import_module("orders.migrations.0008_rekey_alert_claims")
    migration.rekey(apps, None)
    assert post(client, token, alert(alert_id="tv-old"))[0] == 200
    assert post(client, token, bare())[0] == 200
    assert post(client, token, alert(trade_details={"price": "12.50"}))[0] == 200
