"""Removing a daily loss limit asks first, naming the limit (as Cancel protection
does): a dismissed question keeps it, an accepted one removes it."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from protection.models import LossLimit
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_remove_asks_first_naming_the_limit(page, emulator, user):
    account, _ = connected_account(emulator, user, "zerodha", "main", default=True)
    LossLimit.objects.create(user=user, account=account, max_loss=Decimal("500"))
    sign_in(page)
    page.goto("/settings/#risk-limits")
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("#risk-limits").get_by_role("button", name="Remove").click()
    page.wait_for_timeout(300)
    assert asked == [
        "Remove the daily loss limit for Zerodha · main? It stops being watched at once."
    ]
    assert LossLimit.objects.count() == 1

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#risk-limits").get_by_role("button", name="Remove").click()
    expect(page.locator(".message-success")).to_contain_text("Daily loss limit removed")
    assert not LossLimit.objects.exists()
