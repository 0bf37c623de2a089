"""The Queue and Orders pages through the test client (HTMX requests included)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)

HX = {"HX-Request": "true"}


@pytest.fixture
def page(trading, client):  # noqa: F811
    account, peer = trading
    client.force_login(account.user)
    peer.server.state.market.set_price("NSE", "SBIN", "800")
    return client, account, peer


def post_new(client, account, **fields):
    data = {
        "account": account.pk,
        "symbol": "NSE:SBIN",
        "side": "BUY",
        "quantity": 2,
        "order_type": "MARKET",
        "product": "CNC",
        **fields,
    }
    return client.post(reverse("orders:queue-new"), data, headers=HX)


def test_form_offers_only_what_the_broker_supports(page):
    client, account, _ = page
    body = client.get(reverse("orders:queue")).content.decode()
    assert f">{account.display_name}</option>" in body
    assert 'value="CNC"' in body and 'name="amo"' in body  # both emulated brokers take AMO
    assert "Available cash · " + account.display_name in body


def test_new_order_lands_in_the_queue(page):
    client, account, _ = page
    response = post_new(client, account)
    assert response.status_code == 200
    order = Order.objects.get()
    assert order.status == "WAITING" and order.account == account and order.source == "manual"
    assert f'id="order-{order.pk}"' in response.content.decode()


def test_unknown_symbol_and_missing_price_are_shown_on_the_form(page):
    client, account, _ = page
    response = post_new(client, account, symbol="NSE:NOSUCH")
    assert response.status_code == 422 and "NOSUCH is not in the" in response.content.decode()
    response = post_new(client, account, order_type="LIMIT")
    assert (
        response.status_code == 422 and "A LIMIT order needs a price." in response.content.decode()
    )
    assert not Order.objects.exists()


def test_inline_edit_changes_every_field_and_revives_a_failed_order(page):
    client, account, _ = page
    order = new(account)
    Order.objects.filter(pk=order.pk).update(status="FAILED", status_message="market closed")
    form = client.get(reverse("orders:queue-edit", args=[order.pk]), headers=HX).content.decode()
    assert f'id="edit-{order.pk}-quantity"' in form
    row = client.post(
        reverse("orders:queue-edit", args=[order.pk]),
        {
            "account": account.pk,
            "symbol": "NSE:INFY",
            "side": "SELL",
            "quantity": 5,
            "order_type": "LIMIT",
            "product": "MIS",
            "price": "1500.05",
        },
        headers=HX,
    ).content.decode()
    order.refresh_from_db()
    assert (order.symbol, order.side, order.quantity, order.order_type, order.product) == (
        "NSE:INFY",
        "SELL",
        5,
        "LIMIT",
        "MIS",
    )
    assert order.price == Decimal("1500.05") and order.status == "WAITING"
    assert order.instrument.canonical_symbol == "INFY" and "INFY" in row
    assert order.events.filter(kind="edited").exists()


def test_execute_and_cancel_from_the_row(page):
    client, account, peer = page
    first, second = new(account), new(account)
    row = client.post(reverse("orders:queue-execute", args=[first.pk]), headers=HX).content.decode()
    first.refresh_from_db()
    assert first.status == "SENT" and "Sent" in row
    again = client.post(
        reverse("orders:queue-execute", args=[first.pk]), headers=HX
    ).content.decode()
    assert "an order is sent only once" in again
    client.post(reverse("orders:queue-cancel", args=[second.pk]), headers=HX)
    second.refresh_from_db()
    assert second.status == "CANCELLED"
    assert len(peer.user.book.orders) == 1


def test_bulk_execute(page):
    client, account, peer = page
    orders = [new(account) for _ in range(3)]
    client.post(
        reverse("orders:queue-bulk"),
        {"action": "execute", "orders": [o.pk for o in orders[:2]]},
        headers=HX,
    )
    statuses = sorted(Order.objects.values_list("status", flat=True))
    assert statuses == ["SENT", "SENT", "WAITING"] and len(peer.user.book.orders) == 2


def test_prices_come_from_the_live_cache_out_of_band(page):
    """The quote task makes one batched call; the page and its poll read the cache only."""
    from portfolio.live import refresh_live_quotes

    client, account, peer = page
    first, second = new(account), new(account, "INFY")
    wire = peer.wire
    before = peer.server.state.count(wire, "quote")
    refresh_live_quotes()
    assert peer.server.state.count(wire, "quote") - before == 1
    calls = len(peer.server.state.requests)
    body = client.get(reverse("orders:queue")).content.decode()
    have = ",".join(f"{o.pk}.0.q" for o in (first, second))
    poll = client.get(
        reverse("live-orders"), {"page": "queue", "have": have}, headers=HX
    ).content.decode()
    assert len(peer.server.state.requests) == calls  # no broker call from page or poll
    assert f'id="ltp-{first.pk}" class="ltp" title="Live price, 0 s ago">₹800.00' in body
    assert (
        f'id="ltp-{first.pk}" class="ltp" title="Live price, 0 s ago" hx-swap-oob="true">₹800.00'
        in poll
    )
    assert f'id="ltp-{second.pk}"' in poll


def test_preview_follows_capabilities(page):
    client, account, _ = page
    order = new(account)
    body = client.get(reverse("orders:queue-preview", args=[order.pk])).content.decode()
    if account.adapter_class.capabilities.margin_preview:
        assert "₹" in body and "not offered" not in body
    else:
        assert f"margin not offered by {account.broker_label}" in body


def test_orders_page_filters_history_and_sync_now(page):
    client, account, _ = page
    sent = new(account)
    client.post(reverse("orders:queue-execute", args=[sent.pk]), headers=HX)
    waiting = new(account, "INFY")
    body = client.get(reverse("orders:orders"), {"status": "SENT"}).content.decode()
    assert f'id="order-{sent.pk}"' in body and f'id="order-{waiting.pk}"' not in body
    events = client.get(reverse("orders:order-events", args=[sent.pk])).content.decode()
    assert "WAITING → SENDING" in events and "SENDING → SENT" in events
    client.post(reverse("orders:sync", args=[account.pk]))
    sent.refresh_from_db()
    assert sent.status == "EXECUTED"


def test_other_users_get_404_on_every_order_url(page, other_user):
    client, account, _ = page
    order = new(account)
    client.force_login(other_user)
    for name, method in [
        ("orders:queue-row", "get"),
        ("orders:queue-edit", "get"),
        ("orders:queue-edit", "post"),
        ("orders:queue-execute", "post"),
        ("orders:queue-cancel", "post"),
        ("orders:queue-preview", "get"),
        ("orders:order-events", "get"),
        ("orders:order-modify", "post"),
        ("orders:order-cancel", "post"),
    ]:
        response = getattr(client, method)(reverse(name, args=[order.pk]))
        assert response.status_code == 404, (name, method)
    assert client.post(reverse("orders:sync", args=[account.pk])).status_code == 404
    # Bulk: another user's order looks absent (skipped, untouched), like a deleted one.
    bulk = client.post(
        reverse("orders:queue-bulk"), {"action": "execute", "orders": [order.pk]}, headers=HX
    ).content.decode()
    assert f"Order #{order.pk}: skipped — no such order" in bulk
    assert Order.objects.get(pk=order.pk).status == "WAITING"
    body = (
        client.get(reverse("orders:orders")).content.decode()
        + client.get(reverse("orders:queue")).content.decode()
    )
    assert f'id="order-{order.pk}"' not in body
    order.refresh_from_db()
    assert order.status == "WAITING"


def test_gtt_control_follows_capabilities_and_creates_an_oco_pair(page):
    client, account, _ = page
    body = client.get(reverse("orders:queue")).content.decode()
    if account.adapter_class.capabilities.gtt:
        assert f"GTT at {account.broker_label}" in body
    else:
        assert (
            "managed by SigmaTrader" in body and f"{account.broker_label} has no native GTT" in body
        )
    response = post_new(
        client,
        account,
        side="SELL",
        order_type="LIMIT",
        price="900",
        gtt="on",
        condition="ltp_gte",
        trigger_value="900",
        expires_days=30,
        oco_trigger_value="700",
        oco_price="699",
    )
    assert response.status_code == 200, response.content.decode()[:3000]
    first, second = Order.objects.order_by("pk")
    assert first.is_gtt and second.is_gtt and first.oco_sibling == second
    assert (first.condition, second.condition) == ("ltp_gte", "ltp_lte")
    assert second.price == Decimal("699") and second.trigger_value == Decimal("700")


def test_gtt_without_a_trigger_is_refused_on_the_form(page):
    client, account, _ = page
    response = post_new(client, account, gtt="on", order_type="LIMIT", price="800")
    assert (
        response.status_code == 422 and "A GTT needs a trigger value." in response.content.decode()
    )


def test_long_queues_are_paged_oldest_first(page, settings):
    client, account, _ = page
    settings.QUEUE_PAGE_SIZE = 2
    first, second, third = new(account), new(account), new(account)
    body = client.get(reverse("orders:queue")).content.decode()
    assert f'id="order-{first.pk}"' in body and f'id="order-{third.pk}"' not in body
    assert "Page 1 of 2 · 3 waiting, oldest first" in body
    later = client.get(reverse("orders:queue"), {"page": 2}).content.decode()
    assert f'id="order-{third.pk}"' in later and f'id="order-{second.pk}"' not in later


def test_the_queue_stays_on_the_account_of_the_orders_it_acts_on(page):
    from brokers.models import BrokerAccount

    client, main, _ = page
    other = BrokerAccount.objects.create(user=main.user, broker=main.broker, label="other")
    waiting = [new(other), new(other)]
    queue = reverse("orders:queue")
    # The viewed account has nothing waiting: the page says where orders wait.
    body = client.get(f"{queue}?account={main.pk}").content.decode()
    assert f"Nothing waiting for {main.display_name}" in body
    assert f'href="{queue}?account={other.pk}">{other.display_name} (2 orders)</a>' in body
    # A plain (no-JS) cancel goes back to the queue of the order's account.
    response = client.post(reverse("orders:queue-cancel", args=[waiting[0].pk]))
    assert response.status_code == 302 and response["Location"] == f"{queue}?account={other.pk}"
    # The bulk form names the account it shows: the answer stays on it.
    client.get(f"{queue}?account={main.pk}")  # the session now views the main account
    response = client.post(
        reverse("orders:queue-bulk"),
        {"action": "cancel", "orders": [], "queue_account": other.pk},
        headers=HX,
    )
    assert f'id="order-{waiting[1].pk}"' in response.content.decode()
    plain = client.post(
        reverse("orders:queue-bulk"),
        {"action": "cancel", "orders": [waiting[1].pk], "queue_account": other.pk},
    )
    assert plain["Location"] == f"{queue}?account={other.pk}"
