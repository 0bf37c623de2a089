"""First run to sign-out in a real headless Chromium against the live server."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from sigmatrader.models import SystemEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAVIGATION = [
    ("Dashboard", "Dashboard"),
    ("Queue", "Queue"),
    ("Orders", "Orders"),
    ("Holdings", "Holdings — All accounts"),  # no account yet: the merged tab
    ("Positions", "Positions — All accounts"),
    ("Alerts", "Alerts"),
    ("Webhook log", "Webhook log"),
    ("Settings", "Settings"),
    ("Events", "Events"),
]
PASSWORD = "browser-tested-passphrase-9"


def test_first_run_sign_in_every_page_sign_out(page):
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome to SigmaTrader")).to_be_visible()
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome, owner. Your account is ready.")).to_be_visible()
    assert get_user_model().objects.get().is_superuser

    # Sign out, then back in through the login form.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()

    nav = page.get_by_role("navigation", name="Main")
    for link, heading in NAVIGATION:
        nav.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name=link, exact=True)).to_have_attribute(
            "aria-current", "page"
        )

    # The Events page filters through HTMX without a full reload.
    rows = page.locator("#events-table tr.event")
    expect(rows.first).to_be_visible()
    page.evaluate("window.__noReload = true")
    page.get_by_role("combobox").first.select_option("warning")
    expect(rows).to_have_count(SystemEvent.objects.filter(level="warning").count())
    expect(page.locator("#events-table")).to_contain_text("Sign-in failed for 'owner'")
    assert page.evaluate("window.__noReload") is True
    expect(page).to_have_url(re.compile(r"level=warning"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/queue/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/queue/"))
