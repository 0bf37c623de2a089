"""The Orders page's plan edit in a real Chromium (issue 18 leftovers): a protected
entry's trailing stop is set from the exit cell's form, and the stop it moves shows."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from orders.models import ExitPlan
from tests.browser.test_brokers import sign_in
from tests.browser.test_queue import both_accounts  # noqa: F401 (the fixture)
from tests.protection.helpers import by_condition, entry, send, sync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_a_plans_trailing_stop_from_the_orders_page(
    page,
    both_accounts,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    _, zerodha, _ = both_accounts
    order = send(entry(zerodha, stop_loss="2%", target="10%"))
    sync(zerodha, django_capture_on_commit_callbacks)
    assert ExitPlan.objects.get(entry=order).state == "active"
    sign_in(page)
    page.goto(reverse("orders:orders"))
    cell = page.locator(f"#exit-plan-{order.pk}")
    expect(cell.locator(".exit-stop")).to_have_text("₹784.00")
    cell.locator("details.exit-edit summary").click()
    cell.get_by_label("Trailing stop").fill("fast")
    cell.get_by_role("button", name="Save").click()
    cell = page.locator(f"#exit-plan-{order.pk}")
    error = cell.locator(f"#exit-{order.pk}-trailing_stop-error")
    expect(error).to_contain_text("Trailing stop 'fast' is not")  # at its field, form open
    expect(cell.get_by_label("Trailing stop")).to_have_value("fast")
    cell.get_by_label("Trailing stop").fill("1%")
    cell.get_by_label("Trail from").fill("")
    cell.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Order #{order.pk}: exit plan saved.")).to_be_visible()
    cell = page.locator(f"#exit-plan-{order.pk}")
    expect(cell).to_contain_text("trail 1%")
    expect(cell.locator(".exit-stop")).to_have_text("₹792.00")  # 1% under the fill, tighter
    assert by_condition(order)["ltp_lte"].trigger_value == 792
    # On a phone the open form with its four fields stays within the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    cell = page.locator(f"#exit-plan-{order.pk}")
    cell.locator("details.exit-edit summary").click()
    field = cell.get_by_label("Trail from")
    field.scroll_into_view_if_needed()
    box = field.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_the_exit_cell_follows_the_live_poll_without_a_reload(
    page,
    both_accounts,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from decimal import Decimal

    from protection.exits import editing, trailing

    angel, _, _ = both_accounts  # managed legs: the app moves the stop
    order = send(entry(angel, stop_loss="2%", target="10%", trailing_stop="1%"))
    sync(angel, django_capture_on_commit_callbacks)
    sign_in(page)
    page.goto(reverse("orders:orders"))
    cell = page.locator(f"#exit-plan-{order.pk}")
    expect(cell.locator(".exit-stop")).to_have_text("₹784.00")
    page.evaluate("window.notReloaded = true")
    # The price rises: the trailing beat moves the stop; the page shows it on its next poll.
    trailing.trail_one(ExitPlan.objects.get(entry=order), price=Decimal("850"))
    expect(cell.locator(".exit-stop")).to_have_text("₹841.50")
    # While the trader edits, the cell keeps what is typed; once the form closes, it follows.
    cell.locator("details.exit-edit summary").click()
    cell.get_by_label("Target").fill("12%")
    trailing.trail_one(ExitPlan.objects.get(entry=order), price=Decimal("860"))
    page.wait_for_timeout(2500)  # two polls at LIVE_POLL_SECONDS = 1
    expect(cell.get_by_label("Target")).to_have_value("12%")
    expect(cell.locator(".exit-stop")).to_have_text("₹841.50")
    cell.locator("details.exit-edit summary").click()
    expect(cell.locator(".exit-stop")).to_have_text("₹851.40")
    # The plan is cancelled elsewhere: its state changes on the page.
    assert editing.cancel_plan(entry=order, actor="alice") == ""
    expect(cell.locator(".badge")).to_have_text("Cancelled")
    assert page.evaluate("window.notReloaded") is True
