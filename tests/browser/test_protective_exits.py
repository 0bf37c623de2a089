"""Protection in a real Chromium (issue 18): an entry with a stop-loss and a target from the
queue form, filled on the emulator, shows its exit pair on the Orders page (desktop and phone)."""

import re

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


VIEWPORTS = [(1366, 768), (390, 844)]


def _filled(account, **plan):
    """An entry with `plan` sent and filled on the emulator, its fill seen by the sync."""
    from orders.sync import order_sync_account
    from tests.protection.helpers import entry, send

    order = send(entry(account, **plan))
    order_sync_account(account)  # on_commit runs at once outside a test transaction
    return order


def _fits(locator, width: int) -> None:
    locator.scroll_into_view_if_needed()
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_an_unprotected_entry_says_so_and_a_change_shows_until_armed(
    page,
    both_accounts,  # noqa: F811
    width,
    height,
):
    """Review 5, M3: a refused plan's badge says 'Not protected' (not 'Waiting for the
    fill'); after a change the cell says the change is taken until the sweep arms it."""
    from protection.exits import sweep

    _, zerodha, _ = both_accounts
    order = _filled(zerodha, stop_loss="900")  # a MARKET BUY at 800: the stop above the fill
    assert ExitPlan.objects.get(entry=order).note.startswith("NOT protected")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page)
    page.goto(reverse("orders:orders"))
    cell = page.locator(f"#exit-plan-{order.pk}")
    badge = cell.locator(".badge")
    expect(badge).to_have_text("Not protected")
    expect(badge).to_have_class(re.compile("badge-error"))
    expect(cell).not_to_contain_text("Waiting for the fill")
    _fits(cell, width)

    cell.locator("summary", has_text="Change or cancel").click()
    cell.get_by_label("Stop-loss").fill("780")
    cell.get_by_role("button", name="Save").click()
    cell = page.locator(f"#exit-plan-{order.pk}")
    expect(cell).to_contain_text("Changed — arming at the next check (within 15 s).")
    expect(cell).not_to_contain_text("NOT protected")
    expect(cell.locator(".badge")).to_have_text("Not protected yet")
    _fits(cell, width)

    sweep.sweep()  # the beat's next check arms it; the page's live poll shows it
    expect(cell.locator(".badge")).to_have_text("Protecting")
    expect(cell).not_to_contain_text("Changed — arming")
    expect(cell.locator(".exit-stop")).to_have_text("₹780.00")


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_a_legs_row_shows_its_trigger_and_its_state_readably(
    page,
    both_accounts,  # noqa: F811
    width,
    height,
):
    """Review 5, M11: a stop leg's row leads with its trigger (the entry's 'Stop ₹784.00'),
    then the LIMIT price it sends (native) or 'market' (managed); its status detail is read
    whole, inside the page, at 1366 and on a phone."""
    angel, zerodha, _ = both_accounts
    native = _filled(zerodha, stop_loss="2%", target="3%")
    managed = _filled(angel, stop_loss="2%", target="3%")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page)
    page.goto(reverse("orders:orders"))
    for entry, then in ((native, "→ limit ₹776.15"), (managed, "→ market")):
        expect(page.locator(f"#exit-plan-{entry.pk} .exit-stop")).to_have_text("₹784.00")
        stop = Order.objects.get(protects=entry, condition="ltp_lte")
        assert stop.status == "ARMED"
        price = page.locator(f"#price-{stop.pk}")
        expect(price.locator(".leg-figure")).to_have_text("Stop ₹784.00")
        expect(price).to_contain_text(then)
        _fits(price, width)
        detail = page.locator(f"#status-{stop.pk} .reason")
        expect(detail).to_have_text(stop.status_message)  # whole, not folded
        expect(detail).to_contain_text("sends when LTP at or below ₹784.00")
        _fits(detail, width)
    stop = Order.objects.get(protects=managed, condition="ltp_lte")
    expect(page.locator(f"#status-{stop.pk}")).to_contain_text(
        "Managed by SigmaTrader (needs the app running)"
    )
