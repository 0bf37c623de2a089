"""Settings and the account switcher in a real Chromium, brokers emulated."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from brokers.models import BrokerAccount
from tests.brokers.peers.angelone import smart_peer
from tests.brokers.peers.zerodha import kite_peer
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username="alice"):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


def add_account(page, broker_label, label, fields):
    page.goto("/settings/")
    page.get_by_role("link", name="Add account").click()
    page.get_by_role("link", name=re.compile(broker_label)).click()
    page.get_by_label("Label").fill(label)
    for name, value in fields.items():
        page.get_by_label(name, exact=True).fill(value)
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_text(f"{broker_label} · {label} added")).to_be_visible()


def test_connect_both_brokers_and_switch_the_active_account(page, live_server, emulator, user):
    kite = kite_peer(emulator, redirect_url=f"{live_server.url}/brokers/zerodha/callback/")
    smart = smart_peer(emulator)
    sign_in(page)
    expect(page.get_by_role("link", name="Add a broker account")).to_be_visible()

    # Zerodha: add, then connect through the (emulated) Kite login page.
    add_account(
        page, "Zerodha", "main", {"API key": kite.user.api_key, "API secret": "kite-secret-1"}
    )
    # One callback address per redirect-login broker: Zerodha's is among them.
    expect(page.locator("code.copyable", has_text="/brokers/zerodha/callback/")).to_be_visible()
    row = page.locator("tr.account-row", has_text="Zerodha · main")
    row.get_by_role("link", name="Connect").click()
    expect(page.get_by_role("heading", name="Kite (emulator)")).to_be_visible()
    page.get_by_label("User ID").fill(kite.user.user_id)
    page.get_by_label("Password").fill(kite.user.password)
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_text("Zerodha · main connected.")).to_be_visible()
    row = page.locator("tr.account-row", has_text="Zerodha · main")
    expect(row.locator(".badge-status-connected")).to_have_text("Connected")
    expect(row).to_contain_text("₹5,00,000.00")  # funds arrive by HTMX after the page loads

    # AngelOne: add, then connect with PIN and TOTP; a wrong code shows the broker's message.
    add_account(
        page,
        "AngelOne",
        "family",
        {"SmartAPI key": smart.user.api_key, "Client code": smart.user.client_code},
    )
    page.locator("tr.account-row", has_text="AngelOne · family").get_by_role(
        "link", name="Connect"
    ).click()
    page.get_by_label("PIN", exact=True).fill("4321")
    page.get_by_label("TOTP code").fill("000000")
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid totp")
    page.get_by_label("PIN", exact=True).fill("4321")
    page.get_by_label("TOTP code").fill(pyotp.TOTP(smart.user.totp_secret).now())
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_text("AngelOne · family connected.")).to_be_visible()

    # The top-bar switcher: Zerodha (first added) is the default; switch to AngelOne.
    switcher = page.get_by_label("Viewing account")
    expect(switcher.locator("option:checked")).to_have_text("Zerodha · main")
    page.get_by_role("link", name="Holdings").click()
    page.get_by_label("Viewing account").select_option(label="AngelOne · family")
    expect(page).to_have_url(re.compile(r"/holdings/\?account=\d+$"))
    expect(page.get_by_label("Viewing account").locator("option:checked")).to_have_text(
        "AngelOne · family"
    )
    # Viewing is not choosing where TradingView orders go: the default stands.
    assert BrokerAccount.objects.get(is_default=True).label == "main"
