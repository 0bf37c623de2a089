"""In a real Chromium: the closed-market choice on the queue (issue 12 item 1) and
the page staying on the viewed account after an action (item 8)."""

import pytest
from playwright.sync_api import expect

from brokers import accounts
from orders.models import Order
from tests.browser.test_brokers import sign_in
from tests.browser.test_queue import both_accounts  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_adding_an_order_keeps_the_viewed_account_and_send_to(
    page,
    live_server,
    both_accounts,  # noqa: F811
):
    angel, zerodha, _ = both_accounts
    accounts.make_default(account=zerodha)  # the default is Zerodha; the trader views AngelOne
    sign_in(page)
    page.goto(f"{live_server.url}/queue/?account={angel.pk}")
    form = page.locator("#order-form")
    expect(form.get_by_label("Send to")).to_have_value(str(angel.pk))
    form.get_by_label("Instrument").fill("NSE:SBIN-EQ")
    form.get_by_label("Quantity").fill("2")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.get_by_text("is in the queue for AngelOne · main")).to_be_visible()
    order = Order.objects.get()
    # Still AngelOne's list with the new order in it, and "Send to" unchanged.
    expect(page.locator(f"#order-{order.pk}")).to_be_visible()
    expect(page.locator("#order-form").get_by_label("Send to")).to_have_value(str(angel.pk))
    # A reload without ?account= stays on the account the trader was on.
    page.goto(f"{live_server.url}/queue/")
    expect(page.locator(f"#order-{order.pk}")).to_be_visible()
    expect(page.get_by_role("navigation", name="Queue scope")).to_contain_text("AngelOne · main")


def test_closed_market_offers_amo_keep_waiting_or_cancel(
    page,
    live_server,
    both_accounts,  # noqa: F811
    settings,
):
    angel, _, smart = both_accounts
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    waiting = [
        Order.objects.create(
            user=angel.user,
            account=angel,
            account_name=angel.display_name,
            symbol="NSE:SBIN-EQ",
            exchange="NSE",
            instrument=angel_instrument(angel),
            side="BUY",
            quantity=1,
        )
        for _ in range(2)
    ]
    sign_in(page)
    page.goto(f"{live_server.url}/queue/?account={angel.pk}")
    first, second = (page.locator(f"#order-{o.pk}") for o in waiting)

    first.get_by_role("button", name="Execute").click()
    expect(first).to_contain_text("The market is closed")
    expect(first.get_by_role("button", name="Keep waiting")).to_be_visible()
    expect(first.get_by_role("button", name="Cancel order")).to_be_visible()
    assert Order.objects.get(pk=waiting[0].pk).status == "WAITING"  # nothing failed

    first.get_by_role("button", name="Keep waiting").click()  # back to the plain row
    expect(first.get_by_role("button", name="Execute")).to_be_visible()
    assert Order.objects.get(pk=waiting[0].pk).status == "WAITING"

    first.get_by_role("button", name="Execute").click()
    first.get_by_role("button", name="Send as AMO").click()
    expect(first).to_contain_text("Sent")
    sent = Order.objects.get(pk=waiting[0].pk)
    assert sent.status == "SENT" and sent.variety == "AMO"
    assert smart.user.book.orders[sent.broker_order_id].variety == "AMO"

    page.once("dialog", lambda dialog: dialog.accept())
    second.get_by_role("button", name="Execute").click()
    second.get_by_role("button", name="Cancel order").click()
    expect(second).to_contain_text("Cancelled")
    assert Order.objects.get(pk=waiting[1].pk).status == "CANCELLED"


def angel_instrument(account):
    from marketdata.resolution import resolve

    return resolve(broker=account.broker, symbol="NSE:SBIN-EQ")


def test_square_off_in_a_closed_market_offers_amo_or_the_queue(
    page, live_server, emulator, user, settings
):
    """Square-off used to suggest AMO but offer none: now the page asks."""
    from marketdata import refresh
    from portfolio.sync import portfolio_sync_account
    from tests.brokers.peers import connected_account
    from tests.portfolio.helpers import seed

    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    family, peer = connected_account(emulator, user, "angelone", "family", default=True)
    refresh.refresh_instruments(broker="angelone")
    seed(peer, positions=[("TCS", "MIS", 3, "3500")])
    portfolio_sync_account(family)
    sign_in(page)
    page.goto(f"{live_server.url}/positions/?account={family.pk}")
    row = page.locator(".position-row[data-symbol=TCS]")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Square off").click()
    choice = page.get_by_test_id("square-off-closed")
    expect(choice).to_contain_text("The market is closed")
    assert not Order.objects.exists()  # nothing sent or written before the choice
    choice.get_by_role("button", name="Send as AMO").click()
    expect(page.locator(".message-success")).to_contain_text("Square-off order")
    order = Order.objects.get()
    assert (order.side, order.quantity, order.variety, order.status) == ("SELL", 3, "AMO", "SENT")
    assert peer.user.book.orders[order.broker_order_id].variety == "AMO"
