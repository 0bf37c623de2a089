"""Create a strategy, copy the webhook URL, post an alert to it, see it land."""

import json

import pyotp
import pytest
import requests
from playwright.sync_api import expect

from brokers import accounts, connections
from marketdata import refresh
from orders.models import Order
from tests.brokers.peers.angelone import smart_peer
from tests.browser.test_brokers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_strategy_webhook_alert_to_the_queue(page, live_server, emulator, user):
    peer = smart_peer(emulator)
    account = accounts.create_account(
        user=user, broker="angelone", label="main", credentials=peer.credentials
    )
    connections.connect_with_credentials(
        account=account,
        per_connect={"connect_pin": peer.user.pin, "totp": pyotp.TOTP(peer.user.totp_secret).now()},
    )
    refresh.refresh_instruments(broker="angelone")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page)
    page.goto("/settings/")
    card = page.locator("#strategies")
    card.get_by_text("New strategy").click()
    card.get_by_label("Name").fill("Breakout")
    card.get_by_label("Mode").select_option("MANUAL")
    card.get_by_role("button", name="Create strategy").click()
    expect(page.locator("#strategy-table")).to_contain_text("Breakout")

    page.locator("#strategies").get_by_role("button", name="Create webhook URL").click()
    copy = page.locator('#strategies button[data-copy="#webhook-url"]')
    copy.click()
    expect(copy).to_have_text("Copied")
    url = page.evaluate("navigator.clipboard.readText()")
    assert url.startswith(live_server.url + "/webhooks/tradingview/")

    alert = {
        "strategy_name": "Breakout",
        "symbol": "NSE:INFY",
        "bar_time": "2026-11-24T10:00:00Z",
        "trade_details": {"order_action": "buy", "quantity": "4"},
    }
    answer = requests.post(
        url, data=json.dumps(alert), headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert answer.status_code == 202, answer.text
    order = Order.objects.get(pk=answer.json()["order_id"])

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Webhook log", exact=True
    ).click()
    expect(page.locator("#alerts-table")).to_contain_text("Breakout")
    expect(page.locator("#alerts-table")).to_contain_text("Accepted · 202")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Queue", exact=True
    ).click()
    row = page.locator(f"#order-{order.pk}")
    expect(row).to_contain_text("INFY-EQ")
    expect(row).to_contain_text("BUY")
    expect(row.locator("td").nth(4)).to_contain_text("BUY 4")  # side and quantity
