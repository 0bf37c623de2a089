"""Holdings and positions in a real Chromium: refresh two accounts, the merged tab,
Sell from a holding into that account's queue, square off a position, the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in
from tests.portfolio.helpers import seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def count_settles(page) -> int:
    """Start counting htmx:afterSettle events (once per page); the count so far."""
    return page.evaluate(
        """() => {
            if (window.__settles === undefined) {
                window.__settles = 0;
                document.body.addEventListener("htmx:afterSettle", () => window.__settles++);
            }
            return window.__settles;
        }"""
    )


@pytest.fixture
def portfolio(emulator, user, settings):
    from marketdata import refresh

    settings.MARKET_ALWAYS_OPEN = True
    main, main_peer = connected_account(emulator, user, "zerodha", "main", default=True)
    family, family_peer = connected_account(emulator, user, "angelone", "family")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    emulator.state.market.set_price("NSE", "INFY", "1700")
    seed(main_peer, holdings=[("INFY", 10, "1500"), ("SBIN", 5, "600")])
    seed(family_peer, holdings=[("INFY", 30, "1600")], positions=[("TCS", "MIS", 3, "3500")])
    return main, family, family_peer


def test_holdings_of_two_accounts_merged_and_sell_into_the_queue(page, portfolio):
    main, family, family_peer = portfolio
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Holdings").click()
    expect(page).to_have_title("Holdings — Zerodha · main · SigmaTrader")
    expect(page.get_by_text("never synced")).to_be_visible()

    # Refresh each account through the page (HTMX swap, message shown).
    page.get_by_role("button", name="Refresh from Zerodha · main").click()
    expect(page.locator(".message-success")).to_contain_text(
        "Refreshed from Zerodha · main: 2 holdings"
    )
    expect(page.locator("#holdings-table .holding-row")).to_have_count(2)
    page.get_by_role("link", name="AngelOne · family").click()
    expect(page.get_by_role("heading", name="Holdings — AngelOne · family")).to_be_visible()
    page.get_by_role("button", name="Refresh from AngelOne · family").click()
    expect(page.locator("#holdings-table .holding-row")).to_have_count(1)

    # The merged tab: INFY once, 40 shares, weighted average 1,575, both accounts below it.
    page.get_by_role("link", name="All accounts").click()
    expect(page.get_by_role("heading", name="Holdings — All accounts")).to_be_visible()
    assert "account=all" in page.url
    infy = page.locator(".holding-row[data-symbol=INFY]")
    expect(infy).to_contain_text("40")
    expect(infy).to_contain_text("₹1,575.00")
    expect(infy).to_contain_text("₹63,000.00")
    expect(page.get_by_test_id("overall-total")).to_contain_text("₹66,000.00")
    settles = count_settles(page)
    page.get_by_label("Filter by symbol").fill("sbi")
    expect(page.locator("#holdings-table .holding-row")).to_have_count(1)
    # The swapped-in input listens once htmx has settled it; a keystroke before
    # that is not seen (a person cannot type within those milliseconds).
    page.wait_for_function(f"window.__settles > {settles}")
    page.get_by_label("Filter by symbol").fill("")
    expect(page.locator("#holdings-table .holding-row")).to_have_count(2)

    # Sell from the family account's INFY: the form names that account and its quantity.
    expect(infy).to_contain_text("2 accounts")
    page.locator(".breakdown-row[data-symbol=INFY][data-account='AngelOne · family']").get_by_role(
        "link", name="Sell"
    ).click()
    expect(
        page.get_by_role("heading", name="Trade from holdings — AngelOne · family")
    ).to_be_visible()
    expect(page.get_by_label("Send to", exact=True)).to_have_value(str(family.pk))
    expect(page.get_by_label("Quantity")).to_have_value("30")
    page.get_by_label("Quantity").fill("31")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("alert")).to_contain_text("AngelOne · family holds 30 INFY")
    page.get_by_label("Quantity").fill("30")
    page.get_by_label("Add to the queue for review").check()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.locator(".message-success")).to_contain_text("in the queue for AngelOne · family")
    order = Order.objects.get()
    assert (order.account_id, order.side, order.quantity, order.status) == (
        family.pk,
        "SELL",
        30,
        "WAITING",
    )
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("INFY")


def test_square_off_and_dashboard(page, portfolio):
    main, family, family_peer = portfolio
    from portfolio.sync import portfolio_sync_account

    portfolio_sync_account(main)
    portfolio_sync_account(family)
    sign_in(page)
    tile = page.locator("#account-tiles [data-account='AngelOne · family']")
    expect(tile).to_contain_text("Connected")
    tile.get_by_role("link", name="Day P&L").click()
    expect(page.get_by_role("heading", name="Positions — AngelOne · family")).to_be_visible()
    row = page.locator(".position-row[data-symbol=TCS]")
    expect(row).to_contain_text("MIS")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Square off").click()
    expect(page.locator(".message-success")).to_contain_text("Square-off order")
    order = Order.objects.get()
    assert (order.account_id, order.side, order.quantity) == (family.pk, "SELL", 3)
    assert [o.tag for o in family_peer.user.book.orders.values()] == [order.client_tag]


def test_square_off_follows_the_position_and_survives_a_sync(page, portfolio, settings):
    """A square-off form kept its old quantity after a fill (pressing it was refused, "only
    1 open"), and after the beat's sync replaced the rows its pk was gone: 404. The poll
    now brings the form back when the open quantity changes, and never while it does not;
    a quantity the trader typed, and the focus, are kept either way (review 8: a fill
    replaced a typed 2 with the whole position). The form names the position by its key."""
    from portfolio.models import Position
    from portfolio.sync import portfolio_sync_account

    settings.LIVE_POLL_SECONDS = 0.5
    main, family, family_peer = portfolio
    portfolio_sync_account(family)
    sign_in(page)
    page.goto(f"/positions/?account={family.pk}")
    row = page.locator(".position-row[data-symbol=TCS]")
    quantity = row.get_by_role("spinbutton")
    expect(quantity).to_have_value("3")
    quantity.fill("2")
    page.wait_for_timeout(1500)  # three polls, nothing changed: what is typed stays
    expect(quantity).to_have_value("2")

    Position.objects.filter(account=family, symbol="TCS").update(quantity=5)  # a fill
    expect(quantity).to_have_attribute("max", "5")
    expect(row.locator(".square-off")).to_have_attribute("data-confirm", re.compile(r"of 5 TCS"))
    expect(quantity).to_have_value("2")  # typed: kept
    expect(quantity).to_be_focused()

    portfolio_sync_account(family)  # the broker still has 3: the rows come back anew
    expect(quantity).to_have_attribute("max", "3")
    expect(quantity).to_have_value("2")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Square off").click()
    expect(page.locator(".message-success")).to_contain_text("Square-off order")
    order = Order.objects.get()
    assert (order.account_id, order.side, order.quantity) == (family.pk, "SELL", 2)


def test_a_refused_square_off_is_said_at_its_row_on_a_phone(page, portfolio):
    """Review 9: on a phone a refused square-off said why a screen above the row, and the
    field was reset to the whole position (pressing again would exit it all)."""
    from portfolio.sync import portfolio_sync_account

    main, family, family_peer = portfolio
    portfolio_sync_account(family)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto(f"/positions/?account={family.pk}")
    row = page.locator(".position-row[data-symbol=TCS]")
    quantity = row.get_by_role("spinbutton")
    quantity.evaluate("input => { input.removeAttribute('max'); }")  # past the browser's check
    quantity.fill("7")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Square off").click()
    error = row.locator(".field-error")
    expect(error).to_contain_text("has 3 open")
    expect(error).to_be_in_viewport()
    expect(quantity).to_have_value("7")  # as typed, not the whole position
    expect(quantity).to_be_focused()
    assert not Order.objects.exists()
