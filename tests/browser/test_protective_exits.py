"""Protection in a real Chromium (issue 18): an entry with a stop-loss and a target from the
queue form, filled on the emulator, shows its exit pair on the Orders page (desktop and phone)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from orders.models import ExitPlan, Order
from tests.browser.test_brokers import sign_in
from tests.browser.test_queue import both_accounts  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_entry_with_stop_and_target_from_the_queue_shows_its_exit_pair(
    page,
    both_accounts,  # noqa: F811
):
    angel, zerodha, _ = both_accounts
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Queue", exact=True
    ).click()
    form = page.locator("#order-form")
    form.get_by_label("Send to").select_option(label="Zerodha · family")
    expect(form).to_contain_text("GTT at Zerodha")
    form.get_by_label("Instrument").fill("NSE:SBIN")
    form.get_by_label("Quantity").fill("4")
    form.locator("details.exit-plan summary").click()
    expect(form).to_contain_text("held at Zerodha as one GTT (OCO)")
    form.get_by_label("Stop-loss").fill("two percent")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.locator("#order-form")).to_contain_text("is not a price")  # refused in place
    assert not Order.objects.exists()
    form = page.locator("#order-form")
    form.get_by_label("Stop-loss").fill("2%")
    form.get_by_label("Target").fill("3%")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.get_by_text("is in the queue for Zerodha · family")).to_be_visible()
    entry = Order.objects.get()
    assert ExitPlan.objects.get(entry=entry).summary == "SL 2%, target 3%"

    page.goto(reverse("orders:queue") + "?scope=all")
    page.locator(f"#order-{entry.pk}").get_by_role("button", name="Execute").click()
    expect(page.locator(f"#order-{entry.pk}")).to_contain_text("Sent")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Orders", exact=True
    ).click()
    page.get_by_role("button", name="Sync now · Zerodha · family").click()
    row = page.locator(f"#order-{entry.pk}")
    expect(row).to_contain_text("Executed")
    cell = page.locator(f"#exit-plan-{entry.pk}")
    expect(cell).to_contain_text("Protecting")
    expect(cell.locator(".exit-stop")).to_have_text("₹784.00")
    expect(cell.locator(".exit-target")).to_have_text("₹824.00")
    expect(cell).to_contain_text("Held at the broker (GTT ")
    stop, target = Order.objects.filter(protects=entry).order_by("pk")
    expect(page.locator(f"#order-{stop.pk}")).to_contain_text(f"Protective exit of #{entry.pk}")
    expect(page.locator(f"#order-{target.pk}")).to_contain_text("Armed")

    # On a phone the pair is still there and readable.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    cell = page.locator(f"#exit-plan-{entry.pk}")
    cell.scroll_into_view_if_needed()
    expect(cell.locator(".exit-stop")).to_be_visible()
    box = cell.bounding_box()
    assert box is not None and box["width"] <= 390
