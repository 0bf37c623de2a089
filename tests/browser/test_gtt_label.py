"""The queue form's GTT label follows the product chosen: at the broker for delivery,
watched by SigmaTrader for MIS (the broker's GTT is for delivery)."""

import pytest
from playwright.sync_api import expect

from marketdata import refresh
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_gtt_label_says_where_the_trigger_lives_for_the_product(page, emulator, user):
    connected_account(emulator, user, "zerodha", "main", default=True)
    refresh.refresh_instruments(broker="zerodha")
    sign_in(page)
    page.goto("/queue/")
    form = page.locator("#order-form")
    form.locator("details.gtt summary").click()
    label = form.locator("details.gtt .field.checkbox label")
    form.get_by_label("Product").select_option("CNC")
    expect(label).to_have_text("GTT at Zerodha", use_inner_text=True)
    form.get_by_label("Product").select_option("MIS")
    expect(label).to_have_text(
        "GTT watched by SigmaTrader (MIS: Zerodha's GTT is for delivery)", use_inner_text=True
    )
