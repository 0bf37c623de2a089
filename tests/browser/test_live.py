"""Live pages in a real Chromium: status, prices and toasts arrive without a reload; a
hidden tab does not poll; an open inline edit survives the polls."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.execution import execute
from orders.models import Order
from orders.sync import order_sync_account
from portfolio.live import refresh_live_quotes
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in
from tests.site.test_live import new

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kite(emulator, user, settings):
    from marketdata import refresh

    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    settings.LIVE_POLL_SECONDS = 0.5
    account, peer = connected_account(emulator, user, "zerodha", "main", default=True)
    refresh.refresh_instruments(broker="zerodha")
    emulator.state.market.set_price("NSE", "SBIN", "800")
    emulator.state.market.set_price("NSE", "TCS", "4000")
    return account, emulator


def test_a_rejection_arrives_live_with_a_toast(page, kite):
    """The ₹39.8 crore order: shown "Sent", rejected at the broker, seen without reload."""
    account, emulator = kite
    order = new(account, "TCS", quantity=100000, order_type="LIMIT", price=Decimal("3980"))
    sign_in(page)
    execute(order=order, actor="alice")
    page.goto("/orders/")
    status = page.locator(f"#status-{order.pk}")
    expect(status).to_contain_text("Sent")
    page.evaluate("window.__marker = 1")  # gone if the page reloads
    order_sync_account(account)  # the broker's rejection, recorded by sync
    order.refresh_from_db()
    assert order.status == "REJECTED"
    expect(status).to_contain_text("Rejected")
    toast = page.locator("#toasts .toast")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text("Order rejected")
    expect(toast).to_contain_text(order.status_message[:30])
    assert page.evaluate("window.__marker") == 1  # no reload happened
    toast.get_by_role("button", name="Dismiss: Order rejected").click()
    expect(page.locator("#toasts .toast")).to_have_count(0)
    page.wait_for_timeout(1500)
    expect(page.locator("#toasts .toast")).to_have_count(0)  # once per event


def test_a_price_and_a_fill_arrive_on_the_queue_and_an_open_edit_survives(page, kite):
    account, emulator = kite
    editing, other = new(account, "SBIN"), new(account, "TCS", quantity=1)
    sign_in(page)
    page.goto("/queue/")
    expect(page.locator(f"#ltp-{editing.pk}")).to_have_text("—")
    page.locator(f"#order-{editing.pk}").get_by_role("button", name="Edit").click()
    edit = page.locator(f"#edit-{editing.pk}")
    edit.get_by_label("Quantity").fill("7")
    page.locator(f"#order-{other.pk} input[type=checkbox]").check()
    refresh_live_quotes()  # beat's task: prices into the cache
    expect(page.locator(f"#ltp-{other.pk}")).to_have_text("₹4,000.00")
    execute(order=Order.objects.get(pk=other.pk), actor="alice")
    order_sync_account(account)
    expect(page.locator(f"#status-{other.pk}")).to_contain_text("Executed")
    expect(page.locator(f"#actions-{other.pk}")).to_contain_text("See in Orders")
    expect(page.locator("#toasts .toast")).to_contain_text("Order executed")
    # What the user was doing is untouched: the edit row and the ticked box.
    expect(edit.get_by_label("Quantity")).to_have_value("7")
    expect(page.locator(f"#order-{other.pk} input[type=checkbox]")).to_be_checked()


def test_a_hidden_tab_does_not_poll(page, kite):
    account, emulator = kite
    new(account, "SBIN")
    sign_in(page)
    page.goto("/queue/")
    polls = []
    page.on("request", lambda request: "/live/" in request.url and polls.append(request.url))
    page.wait_for_timeout(1500)
    assert polls, "a visible page polls"
    page.evaluate(
        """() => {
            Object.defineProperty(document, "visibilityState", {get: () => "hidden"});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_timeout(300)
    polls.clear()
    page.wait_for_timeout(2000)
    assert polls == []


def test_a_page_whose_session_ended_goes_to_sign_in_instead_of_swapping_it_in(page, kite):
    sign_in(page)
    expect(page.locator("#dashboard-figures")).to_be_visible()
    # The first toasts poll writes its cursor into the session (a Set-Cookie): let it land.
    page.wait_for_timeout(1500)
    page.context.clear_cookies()  # signed out elsewhere, or the session ended
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"), timeout=10_000)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(1)
    expect(page.locator("#toasts")).to_have_count(0)  # no page inside the toast region
