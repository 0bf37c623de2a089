"""The dashboard's cash in a real Chromium: paper money is shown apart from real money,
labelled as paper, and never added to the real total (at 1366x768 and on a phone)."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portfolio.models import PortfolioSync
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account
from tests.browser.test_brokers import sign_in
from tests.browser.test_layout import SIZES
from tests.browser.test_watchlists import fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", list(SIZES))
def test_paper_cash_is_shown_apart_from_real_cash(page, emulator, user, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    real, _ = connected_account(emulator, user, "zerodha", "Main trading account", True)
    PortfolioSync.objects.create(
        account=real, synced_at=timezone.now(), available_cash=Decimal("50000")
    )
    paper = connected_paper_account(
        user, price_source="Main trading account", label="Practice", starting_cash="100000"
    )
    sign_in(page)
    expect(page.get_by_test_id("overall-cash")).to_have_text("₹50,000.00")
    expect(page.get_by_test_id("paper-cash")).to_contain_text("Paper")
    expect(page.get_by_test_id("paper-cash")).to_contain_text("₹1,00,000.00")
    # Holdings value and Day P&L keep paper apart too, labelled, not added.
    expect(page.get_by_test_id("paper-value")).to_contain_text("not in the total")
    expect(page.get_by_test_id("paper-day-pnl")).to_contain_text("Paper")
    tile = page.locator(f"#account-tiles [data-account='{paper.display_name}']")
    expect(tile).to_contain_text("Paper cash")
    real_tile = page.locator(f"#account-tiles [data-account='{real.display_name}']")
    expect(real_tile.get_by_test_id("cash")).to_have_text("₹50,000.00")
    fits(page, width)
