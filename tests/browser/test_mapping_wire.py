"""The MTF badge of a holding mapped from Kite's published shape, in a real Chromium at
laptop and phone sizes (the server side is in tests/brokers/test_mapping_wire.py)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from emulator.state import Lot
from portfolio.sync import portfolio_sync_account
from tests.brokers.test_mapping_wire import kite  # noqa: F401 (the fixture)
from tests.browser.test_brokers import sign_in

D = Decimal


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_mtf_badge_in_the_browser(page, kite, size):  # noqa: F811
    from playwright.sync_api import expect

    account, peer = kite
    lot = Lot("NSE", "INFY", 10, D("1500"))
    lot.mtf_quantity, lot.mtf_average_price = 1000, D("1400")
    peer.user.book.holdings[("NSE", "INFY")] = lot
    assert portfolio_sync_account(account).ok
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in(page)
    page.goto(reverse("portfolio:holdings") + f"?account={account.pk}")
    badge = page.locator('#holdings-table [data-testid="mtf"]')
    expect(badge).to_have_text("MTF 1,000")
    expect(badge).to_have_attribute(
        "title", "Also held with margin (MTF): not counted in the quantity, value or P&L here"
    )
    badge.scroll_into_view_if_needed()
    expect(badge).to_be_visible()
