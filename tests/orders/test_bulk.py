"""Execute/Cancel selected: one honest outcome per order (orders/bulk.py)."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from orders.execution import execute
from orders.models import Order, RiskPolicy
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)

HX = {"HX-Request": "true"}


def test_failed_orders_are_not_counted_as_executed(trading, client):  # noqa: F811
    account, peer = trading
    client.force_login(account.user)
    RiskPolicy.objects.create(user=account.user, max_quantity=1, mode="reject")
    first, second = new(account), new(account)  # quantity 2: over the limit
    already = new(account, quantity=1)
    already = execute(order=already, actor="alice")
    assert already.status == "SENT"
    stranger = get_user_model().objects.create_user("mallory", password="x-long-password-1")
    foreign = Order.objects.create(
        user=stranger, account=account, symbol="SBIN", exchange="NSE", side="BUY", quantity=1
    )
    body = client.post(
        reverse("orders:queue-bulk"),
        {"action": "execute", "orders": [first.pk, second.pk, already.pk, "²", foreign.pk]},
        headers=HX,
    ).content.decode()
    first.refresh_from_db(), second.refresh_from_db(), foreign.refresh_from_db()
    assert first.status == second.status == "FAILED"
    assert foreign.status == "WAITING"
    assert "executed" not in body and "0 sent" not in body
    assert "Execute selected (4): 2 failed, 2 skipped." in body
    assert f"Order #{first.pk}: failed — " in body and first.status_message[:20] in body
    assert f"Order #{already.pk}: skipped — already sent" in body
    assert f"Order #{foreign.pk}: skipped — no such order" in body
    assert len(peer.user.book.orders) == 1  # only the one sent before


def test_sent_orders_are_counted_by_their_state(trading, client):  # noqa: F811
    account, peer = trading
    client.force_login(account.user)
    orders = [new(account), new(account)]
    body = client.post(
        reverse("orders:queue-bulk"),
        {"action": "execute", "orders": [o.pk for o in orders]},
        headers=HX,
    ).content.decode()
    assert "Execute selected (2): 2 sent." in body
    cancel = new(account)
    body = client.post(
        reverse("orders:queue-bulk"), {"action": "cancel", "orders": [cancel.pk]}, headers=HX
    ).content.decode()
    assert "Cancel selected (1): 1 cancelled." in body
    assert Order.objects.get(pk=cancel.pk).status == "CANCELLED"


def test_an_empty_selection_is_refused_clearly(trading, client):  # noqa: F811
    account, _ = trading
    client.force_login(account.user)
    waiting = new(account)
    for headers in (HX, {}):
        response = client.post(reverse("orders:queue-bulk"), {"action": "execute"}, headers=headers)
        body = response.content.decode()
        assert response.status_code == 422
        assert "No orders selected" in body and "0 order(s)" not in body
    response = client.post(
        reverse("orders:queue-bulk"), {"action": "explode", "orders": [waiting.pk]}
    )
    assert response.status_code == 422 and "Choose Execute selected" in response.content.decode()
    assert Order.objects.get(pk=waiting.pk).status == "WAITING"
