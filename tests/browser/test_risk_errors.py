"""Settings → Risk and the halt's release form: an error comes back in view (the
card swapped in place, its first error scrolled to and focused), not 2,800 px below
a page scrolled to the top; and reloading after an error never gives a bare 405.
At 1366x768 and on a 390 px phone."""

import pytest
from playwright.sync_api import expect

from protection import halts
from protection.models import LossLimit
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


@pytest.mark.parametrize("size", list(SIZES))
def test_risk_and_release_errors_are_in_view_and_reload_safely(page, emulator, user, size):
    account, _ = connected_account(emulator, user, "zerodha", "main", default=True)
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page)

    page.goto("/settings/#risk-limits")
    card = page.locator("#risk-limits")
    card.get_by_label("Max loss today").fill("0")
    card.get_by_role("button", name="Save daily limit").click()
    error = page.locator("#risk-limits .field-max_loss .field-error")
    expect(error).to_contain_text("more than 0")
    expect(error).to_be_in_viewport()
    expect(page.locator("#risk-limits").get_by_label("Max loss today")).to_be_focused()
    assert not LossLimit.objects.exists()
    response = page.reload()
    assert response is not None and response.status == 200, response and response.status
    # The fixed form saves, and says so.
    page.locator("#risk-limits").get_by_label("Max loss today").fill("500")
    page.locator("#risk-limits").get_by_role("button", name="Save daily limit").click()
    expect(page.locator(".message-success")).to_contain_text("Daily loss limit for all accounts")
    assert LossLimit.objects.get().max_loss == 500

    halt = halts.kill_switch(user=user, account=account, typed="main", actor="alice")
    page.goto("/protection/halts/")
    page.get_by_label("Type RELEASE to confirm").fill("release")
    page.get_by_role("button", name="Release the halt").click()
    error = page.locator(f"#halt-{halt.pk} .field-typed .field-error")
    expect(error).to_contain_text("Type RELEASE exactly")
    expect(error).to_be_in_viewport()
    expect(page.get_by_label("Type RELEASE to confirm")).to_be_focused()
    response = page.reload()
    assert response is not None and response.status == 200, response and response.status
    page.get_by_label("Type RELEASE to confirm").fill("RELEASE")
    page.get_by_role("button", name="Release the halt").click()
    expect(page.locator(".message-success")).to_contain_text("released")
    halt.refresh_from_db()
    assert halt.released_by == "alice"
