"""Paper trading in a real Chromium: add a paper account priced by a live one, trade
on it from the queue, see it in positions and the next day in holdings, reset it."""

import pytest
from playwright.sync_api import expect

from marketdata import refresh
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in
from tests.paper.helpers import next_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_trade_and_reset_a_paper_account(page, emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    connected_account(emulator, user, "angelone", "live", default=True)
    refresh.refresh_instruments(broker="angelone")
    emulator.state.market.set_price("NSE", "SBIN", "800")
    sign_in(page)

    page.goto("/settings/")
    page.get_by_role("link", name="Add account").click()
    page.get_by_role("link", name="Paper trading").click()
    page.get_by_label("Label").fill("practice")
    page.get_by_label("Starting cash (₹)").fill("200000")
    page.get_by_label("Price source account").select_option(label="AngelOne · live")
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_text("Paper trading · practice is ready.")).to_be_visible()
    row = page.locator(".account-row", has_text="Paper trading · practice")
    expect(row).to_contain_text("Connected")
    expect(row).to_contain_text("₹2,00,000.00")  # funds fragment over HTMX

    refresh.refresh_instruments(broker="paper")  # what the background task does
    account = user.broker_accounts.get(label="practice")
    page.goto(f"/queue/?account={account.pk}")
    form = page.locator("#order-form")
    expect(form.get_by_label("Send to")).to_have_value(str(account.pk))
    form.get_by_label("Instrument").fill("NSE:SBIN")
    form.get_by_label("Quantity").fill("10")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.get_by_text("is in the queue for Paper trading · practice")).to_be_visible()
    page.goto(f"/queue/?account={account.pk}")
    queued = page.locator(".queue-row", has_text="SBIN")
    expect(queued).to_be_visible()
    queued.get_by_role("button", name="Execute").click()
    page.goto("/orders/")
    expect(page.locator("#orders-table")).to_contain_text("Paper trading · practice")

    # Today's delivery buy is a position; it settles into holdings the next day.
    page.goto(f"/positions/?account={account.pk}")
    page.get_by_role("button", name="Refresh from Paper trading · practice").click()
    expect(page.locator(".position-row[data-symbol=SBIN]")).to_contain_text("₹800.00")
    next_day(account)
    page.goto(f"/holdings/?account={account.pk}")
    page.get_by_role("button", name="Refresh from Paper trading · practice").click()
    expect(page.locator(".holding-row[data-symbol=SBIN]")).to_contain_text("₹8,000.00")

    page.goto("/settings/")
    row.get_by_role("link", name="Reset").click()
    expect(page.get_by_role("heading", name="Reset Paper trading · practice?")).to_be_visible()
    page.get_by_role("button", name="Reset account").click()
    expect(page.get_by_text("was reset to its starting cash")).to_be_visible()
    expect(row).to_contain_text("₹2,00,000.00")
