"""The queue in a real Chromium: create, edit, execute, sync; GTT by capability."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from brokers import accounts, connections
from marketdata import refresh
from orders.models import Order
from tests.brokers.peers.angelone import smart_peer
from tests.brokers.peers.zerodha import kite_peer
from tests.browser.test_brokers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def both_accounts(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    settings.LIVE_POLL_SECONDS = 1
    smart = smart_peer(emulator)
    angel = accounts.create_account(
        user=user, broker="angelone", label="main", credentials=smart.credentials
    )
    connections.connect_with_credentials(
        account=angel,
        per_connect={
            "connect_pin": smart.user.pin,
            "totp": pyotp.TOTP(smart.user.totp_secret).now(),
        },
    )
    kite = kite_peer(emulator)
    zerodha = accounts.create_account(
        user=user, broker="zerodha", label="family", credentials=kite.credentials
    )
    _, session = kite.connect()
    accounts.store_session(account=zerodha, session=session, event="connected")
    refresh.refresh_instruments(broker="angelone")
    refresh.refresh_instruments(broker="zerodha")
    emulator.state.market.set_price("NSE", "SBIN", "800")
    emulator.state.market.set_price("NSE", "INFY", "1500")
    return angel, zerodha, smart


def test_queue_create_edit_execute_and_sync(page, both_accounts):
    angel, zerodha, smart = both_accounts
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Queue", exact=True
    ).click()
    form = page.locator("#order-form")
    expect(form.get_by_label("Send to")).to_have_value(str(angel.pk))
    expect(form).to_contain_text("managed by SigmaTrader (AngelOne has no native GTT)")

    # Autocomplete fills the instrument; the order lands in the queue.
    form.get_by_label("Instrument").fill("SBI")
    page.locator("#instrument-results li[role=option]", has_text="SBIN-EQ").first.click()
    expect(form.get_by_label("Instrument")).to_have_value("NSE:SBIN-EQ")
    form.get_by_label("Quantity").fill("3")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.get_by_text("is in the queue for AngelOne · main")).to_be_visible()
    order = Order.objects.get()
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text("SBIN-EQ")
    # Prices come from the live cache (beat's quote task), read by the page's poll.
    from portfolio.live import refresh_live_quotes

    refresh_live_quotes()
    expect(row.locator(f"#ltp-{order.pk}")).to_have_text("₹800.00")

    # Inline edit: a bad price is refused on the row, then fixed.
    row.get_by_role("button", name="Edit").click()
    edit = page.locator(f"#edit-{order.pk}")
    edit.get_by_label("Quantity").fill("5")
    edit.get_by_label("Type").select_option("LIMIT")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator(f"#edit-{order.pk}")).to_contain_text("A LIMIT order needs a price.")
    page.locator(f"#edit-{order.pk}").get_by_label("Price", exact=True).fill("801")
    page.locator(f"#edit-{order.pk}").get_by_role("button", name="Save").click()
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text("₹801.00")
    expect(row.locator("td").nth(4)).to_contain_text("BUY 5")

    # Execute, then watch the status come back through sync.
    row.get_by_role("button", name="Execute").click()
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("Sent")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Orders", exact=True
    ).click()
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("Sent")
    page.get_by_role("button", name="Sync now · AngelOne · main").click()
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("Executed")
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("₹801.00")
    page.locator(f"#order-{order.pk} details.timeline summary").click()
    expect(page.locator(f"#order-{order.pk} details.timeline")).to_contain_text("SENDING → SENT")
    assert len(smart.user.book.orders) == 1

    # The destination decides the GTT control: native at Zerodha.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Queue", exact=True
    ).click()
    page.locator("#order-form").get_by_label("Send to").select_option(label="Zerodha · family")
    expect(page.locator("#order-form")).to_contain_text("GTT at Zerodha")
    expect(page.locator("#order-form")).not_to_contain_text("managed by SigmaTrader")
    expect(page).to_have_url(re.compile(r"/queue/"))
