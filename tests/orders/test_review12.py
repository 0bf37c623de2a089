"""Issue 12 review (pages a trader can rely on), the server-side parts: each reason said
once, an edit clears the failure it fixed, the Orders poll sends only blocks the page has."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.bulk import Outcome
from orders.execution import execute
from orders.models import Order
from orders.queue import update_waiting
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)
from tests.orders.test_risk import account, policy  # noqa: F401 (the fixture)
from tests.site.test_live import HX, three  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_the_orders_poll_sends_no_price_blocks_the_orders_page_has_no_place_for(three, client):  # noqa: F811
    zerodha, *_ = three
    client.force_login(zerodha.user)
    for order in Order.objects.filter(account=zerodha):
        execute(order=order, actor="alice")
    page = client.get(reverse("orders:orders")).content.decode()
    assert 'id="ltp-' not in page
    have = page.split('id="live-have" name="have" value="')[1].split('"')[0]
    assert have
    poll = client.get(reverse("live-orders"), {"page": "orders", "have": have}, headers=HX)
    assert 'id="ltp-' not in poll.content.decode()
    queue_page = client.get(reverse("orders:queue"), {"scope": "all"}).content.decode()
    have = queue_page.split('id="live-have" name="have" value="')[1].split('"')[0]
    poll = client.get(reverse("live-orders"), {"page": "queue", "have": have}, headers=HX)
    assert 'id="ltp-' in poll.content.decode()  # the queue shows prices


def test_a_bulk_result_line_says_sent_once():
    assert Outcome(3, "sent", "sent").line == "Order #3: sent"
    assert Outcome(3, "sent", "Sent.").line == "Order #3: sent"
    assert (
        Outcome(4, "failed", "Insufficient funds").line == "Order #4: failed — Insufficient funds"
    )


def test_a_failure_reason_is_shown_once_in_the_queue(three, client):  # noqa: F811
    zerodha, *_ = three
    client.force_login(zerodha.user)
    order = Order.objects.filter(account=zerodha).first()
    reason = "RMS: margin exceeds for this unique reason"
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.FAILED, status_message=reason, risk_note=reason
    )
    page = client.get(reverse("orders:queue"), {"scope": "all"}).content.decode()
    row = page.split(f'id="order-{order.pk}"')[1].split("</tr>")[0]
    assert row.count(reason) == 1, row


def test_editing_a_blocked_order_back_to_waiting_clears_its_old_reason(account):  # noqa: F811
    acct, _ = account
    policy(acct.user, max_quantity=1)
    order = execute(order=new(acct, quantity=3), actor="alice")
    assert order.status == "FAILED" and order.risk_note.startswith("Blocked by risk policy")
    edited = update_waiting(
        order=order, account=acct, symbol=order.symbol, fields={"quantity": 1}, actor="alice"
    )
    edited.refresh_from_db()
    assert (edited.status, edited.status_message, edited.risk_note) == ("WAITING", "", "")


def test_a_negative_modify_price_gets_one_message(account):  # noqa: F811
    from orders.forms import ModifyForm

    acct, _ = account
    order = execute(
        order=new(acct, "INFY", order_type="LIMIT", price=Decimal("1400")), actor="alice"
    )
    form = ModifyForm(
        {"quantity": "2", "order_type": "LIMIT", "price": "-5", "trigger_price": ""}, order=order
    )
    assert not form.is_valid()
    assert form.errors["price"] == ["The price must be above 0."]


def switcher_choice(html: str) -> str:
    select = html.split('id="account-switch"')[1].split("</select>")[0]
    return select.split(" selected>")[0].rsplit('value="', 1)[1].split('"')[0]


def test_only_the_switcher_and_page_tabs_change_the_viewed_account(three, client):  # noqa: F811
    zerodha, angel, *_ = three
    client.force_login(zerodha.user)
    client.post(reverse("brokers:switch"), {"account": zerodha.pk, "next": "/queue/"})
    # The new-order form re-rendered for another "Send to" account: the view stays.
    form = client.get(reverse("orders:queue-form"), {"account": angel.pk}, headers=HX)
    assert form.status_code == 200
    assert switcher_choice(client.get(reverse("orders:queue")).content.decode()) == str(zerodha.pk)
    # A holdings tab (a full page load) changes it, and the switcher shows it.
    holdings = client.get(reverse("portfolio:holdings"), {"account": angel.pk}).content.decode()
    assert switcher_choice(holdings) == str(angel.pk)
    assert 'hx-get="/holdings/?account=' not in holdings  # tabs are navigations
    assert switcher_choice(client.get(reverse("orders:queue")).content.decode()) == str(angel.pk)


def test_the_demo_on_other_ports_needs_two_values():
    import shutil
    import subprocess
    from pathlib import Path

    if not shutil.which("make"):
        pytest.skip("no make")
    root = Path(__file__).resolve().parents[2]
    dry = subprocess.run(
        ["make", "-n", "-C", str(root), "demo", "WEB_PORT=8460", "EMULATOR_PORT=8461"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "KITE_API_ROOT=http://127.0.0.1:8461 " in dry and "8100" not in dry
    assert "WEB_PORT=8460" in dry and "EMULATOR_PORT=8461" in dry


def test_a_refused_alert_shows_the_strategy_and_symbol_its_body_named(user, client):
    from orders.models import WebhookAlert

    WebhookAlert.objects.create(
        user=user,
        outcome="rejected",
        http_status=400,
        reason="quantity: must be a whole number",
        raw_body='{"strategy_name": "breakout-7", "symbol": "NSE:RELIANCE", "quantity": "x"}',
    )
    client.force_login(user)
    page = client.get(reverse("orders:alerts")).content.decode()
    assert "breakout-7" in page and "NSE:RELIANCE" in page


def test_account_buttons_say_what_they_do(three, client):  # noqa: F811
    from brokers.models import BrokerAccount

    zerodha, angel, paper, _ = three
    BrokerAccount.objects.filter(pk=angel.pk).update(status="expired")
    client.force_login(zerodha.user)
    page = client.get(reverse("settings")).content.decode()

    def actions(one):
        row = page.split(f'data-account="{one.pk}"')[1].split("</tr>")[0]
        return row.split('class="actions"')[1]

    assert ">Reconnect<" in actions(angel) and ">Connect<" not in actions(angel)
    assert "paper session<" in actions(paper) and "Reconnect" not in actions(paper)


def test_order_forms_autocomplete_leaves_indices_out(three, client):  # noqa: F811
    from marketdata.models import Instrument

    zerodha, *_ = three
    assert Instrument.objects.filter(broker="zerodha", instrument_type="INDEX").exists()
    index = Instrument.objects.filter(broker="zerodha", instrument_type="INDEX").first()
    client.force_login(zerodha.user)
    url = reverse("marketdata:search")
    query = {"q": index.trading_symbol[:4], "account": zerodha.pk}
    lookup = client.get(url, query, headers=HX).content.decode()
    assert "· INDEX" in lookup  # Settings' lookup still finds indices
    order_form = client.get(url, {**query, "tradable": "1"}, headers=HX).content.decode()
    assert "· INDEX" not in order_form
    queue_page = client.get(reverse("orders:queue")).content.decode()
    assert '"tradable": "1"' in queue_page


def test_the_preview_says_when_an_order_is_above_the_cash_the_account_reported(three, client):  # noqa: F811
    from portfolio.sync import portfolio_sync_account

    zerodha, angel, paper, _ = three
    portfolio_sync_account(paper)  # stores the paper account's ₹10 lakh
    client.force_login(paper.user)
    big = new(paper, "SBIN", quantity=10000, order_type="LIMIT", price=Decimal("1430"))
    small = new(paper, "SBIN", quantity=1, order_type="LIMIT", price=Decimal("800"))
    url = reverse("orders:queue") + "{}/preview/"
    shown = client.get(url.format(big.pk), headers=HX).content.decode()
    assert "needs about ₹1.43 crore, ₹10.0 lakh available" in shown
    assert "needs about" not in client.get(url.format(small.pk), headers=HX).content.decode()
    market = new(paper, "SBIN", quantity=2000)  # MARKET: valued at the cached LTP (₹800)
    from portfolio.live import refresh_live_quotes

    refresh_live_quotes()
    assert (
        "needs about ₹16.0 lakh" in client.get(url.format(market.pk), headers=HX).content.decode()
    )


def test_a_long_queue_reason_can_be_read_in_full(three, client):  # noqa: F811
    zerodha, *_ = three
    client.force_login(zerodha.user)
    order = Order.objects.filter(account=zerodha).first()
    reason = "Blocked by risk policy: " + "; ".join(f"limit {i} exceeded" for i in range(12))
    Order.objects.filter(pk=order.pk).update(status=Order.Status.FAILED, status_message=reason)
    page = client.get(reverse("orders:queue"), {"scope": "all"}).content.decode()
    row = page.split(f'id="order-{order.pk}"')[1].split("</tr>")[0]
    assert f'title="{reason} (click to read it all)"' in row
