"""The symbol lookup box autocompletes in a real Chromium (the server side is in
tests/marketdata/test_instrument_search.py)."""

import pytest
from playwright.sync_api import expect

from brokers import accounts
from tests.conftest import PASSWORD
from tests.marketdata.test_instrument_search import loaded  # noqa: F401 (the fixture)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_lookup_box_autocompletes_in_the_browser(page, user, loaded):  # noqa: F811
    accounts.create_account(user=user, broker="angelone", label="main", credentials={})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/settings/")
    page.get_by_label("Look up a symbol at AngelOne · main").fill("sbi")
    options = page.locator("#instrument-results li[role=option]")
    expect(options.first).to_contain_text("SBIN-EQ")
    expect(options).to_have_count(3)
