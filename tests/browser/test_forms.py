"""Every form shows its errors in a real Chromium, and no click fails silently.

One live server, several forms per test. The server answers a form's errors
with 422; base.html's htmx-config swaps 4xx like a success, so the errors
appear next to the fields. A 5xx or no answer shows static/js/errors.js's
banner instead of nothing.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order, RiskPolicy, Strategy
from portfolio.models import Position
from tests.browser.test_brokers import sign_in
from tests.browser.test_queue import both_accounts  # noqa: F401 (the fixture)
from tests.orders.test_order_lifecycle import new

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_browser_checks(page):
    """Let the server judge: drop required/min/maxlength so its own errors show."""
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")


def test_order_forms_show_their_errors_and_bulk_refuses_an_empty_selection(
    page,
    both_accounts,  # noqa: F811
):
    angel, zerodha, _ = both_accounts
    sign_in(page)
    page.goto("/queue/")
    form = page.locator("#order-form")

    # LIMIT without a price.
    form.get_by_label("Instrument").fill("NSE:SBIN")
    form.get_by_label("Type").select_option("LIMIT")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.locator("#order-form")).to_contain_text("A LIMIT order needs a price.")

    # SL without a trigger price.
    form = page.locator("#order-form")
    form.get_by_label("Type").select_option("SL")
    form.get_by_label("Price", exact=True).fill("800")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.locator("#order-form")).to_contain_text("needs a trigger price")

    # An unknown symbol (typed once the swapped-in form has settled and its field
    # errors took focus: a fill in the same instant was lost on a loaded machine).
    form = page.locator("#order-form")
    page.wait_for_timeout(1000)
    form.get_by_label("Instrument").fill("NSE:NOSUCHTHING")
    expect(form.get_by_label("Instrument")).to_have_value("NSE:NOSUCHTHING")
    form.get_by_label("Type").select_option("MARKET")
    # Submit from the keyboard: a click could land on a suggestion the autocomplete
    # drops over the button while its answer arrives (picking another symbol).
    page.wait_for_load_state("networkidle")
    form.get_by_label("Instrument").press("Escape")
    form.get_by_role("button", name="Add to queue").press("Enter")
    expect(page.locator("#order-form .symbol-field .field-error")).to_be_visible()

    # A GTT without its trigger value.
    form = page.locator("#order-form")
    form.get_by_label("Instrument").fill("NSE:SBIN")
    form.get_by_label("Type").select_option("LIMIT")
    form.get_by_label("Price", exact=True).fill("800")
    form.locator("details.gtt summary").click()  # collapsed until chosen
    form.get_by_label("GTT").check()
    no_browser_checks(page)
    form.get_by_role("button", name="Add to queue").click()
    expect(page.locator("#order-form")).to_contain_text("A GTT needs a trigger value.")
    assert Order.objects.count() == 0

    # The inline edit row.
    order = new(angel, "SBIN-EQ")
    page.goto("/queue/")
    row = page.locator(f"#order-{order.pk}")
    row.get_by_role("button", name="Edit").click()
    edit = page.locator(f"#edit-{order.pk}")
    edit.get_by_label("Type").select_option("LIMIT")
    edit.get_by_label("Price", exact=True).fill("")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator(f"#edit-{order.pk}")).to_contain_text("A LIMIT order needs a price.")
    order.refresh_from_db()
    assert order.order_type == "MARKET"

    # Execute selected with nothing selected.
    page.goto("/queue/")
    page.get_by_role("button", name="Execute selected").click()
    expect(page.locator("#queue-body .messages")).to_contain_text("No orders selected")
    assert Order.objects.get(pk=order.pk).status == "WAITING"


def test_settings_forms_show_their_errors(page, both_accounts):  # noqa: F811
    angel, _, smart = both_accounts
    strategy = Strategy.objects.create(user=angel.user, name="Breakout", mode="MANUAL")
    sign_in(page)
    page.goto("/settings/")
    card = page.locator("#strategies")

    # New strategy without a name.
    card.get_by_text("New strategy").click()
    no_browser_checks(page)
    card.get_by_role("button", name="Create strategy").click()
    expect(page.locator("#strategies .field-error").first).to_be_visible()
    assert Strategy.objects.count() == 1

    # Editing a strategy to a name already taken.
    Strategy.objects.create(user=angel.user, name="Swing", mode="MANUAL")
    page.goto("/settings/")
    page.locator(f"#strategy-{strategy.pk}").get_by_role("button", name="Edit").click()
    edit = page.locator(f"#strategy-{strategy.pk}")
    edit.get_by_label("Name").fill("Swing")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator(f"#strategy-{strategy.pk}")).to_contain_text("already have a strategy")

    # A webhook secret longer than the webhook reads.
    page.evaluate("document.getElementById('webhook-secret').value = 'x'.repeat(300)")
    page.locator("#strategies").get_by_role("button", name="Save secret").click()
    expect(page.locator("#strategies .secret-form .field-error")).to_be_visible()

    # Risk limits: a plain (non-HTMX) form, re-rendered with the error at the field.
    risk = page.locator("#risk")
    risk.get_by_label("Max quantity").fill("-3")
    no_browser_checks(page)
    risk.get_by_role("button", name="Save risk limits").click()
    expect(page.locator("#risk .field-error")).to_be_visible()
    expect(page.locator("#risk").get_by_label("Max quantity")).to_have_value("-3")
    assert not RiskPolicy.objects.filter(max_quantity__lt=0).exists()

    # Adding an account without its API key.
    page.goto("/brokers/accounts/new/?broker=zerodha")
    page.get_by_label("Label").fill("spare")
    no_browser_checks(page)
    page.get_by_role("button", name="Add account").click()
    expect(page.locator(".field-error, .form-error").first).to_be_visible()
    assert not angel.user.broker_accounts.filter(label="spare").exists()

    # Connecting with a wrong TOTP code.
    page.goto(f"/brokers/accounts/{angel.pk}/connect/")
    page.get_by_label("PIN", exact=False).first.fill(smart.user.pin)
    page.get_by_label("TOTP", exact=False).first.fill("000000")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator(".form-error, .field-error").first).to_be_visible()


def test_trade_and_square_off_show_errors_and_a_5xx_shows_a_banner(
    page,
    both_accounts,  # noqa: F811
):
    angel, zerodha, _ = both_accounts
    sign_in(page)

    # Selling more than the account holds, from the trade form.
    page.goto(f"/holdings/trade/?account={zerodha.pk}&symbol=NSE:SBIN&side=SELL&quantity=5")
    page.locator("#trade-form").get_by_role("button", name="Place order").click()
    expect(page.locator("#trade-form .field-error, #trade-form .form-error").first).to_be_visible()
    assert Order.objects.count() == 0

    # Square-off of a position whose instrument is unknown: the reason shows on the page.
    Position.objects.create(
        account=zerodha,
        exchange="NSE",
        symbol="NOSUCHTHING",
        broker_symbol="NOSUCHTHING",
        product="MIS",
        quantity=3,
        average_price=Decimal("10"),
        last_price=Decimal("10"),
        pnl=Decimal("0"),
    )
    page.goto(f"/positions/?account={zerodha.pk}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Square off").first.click()
    error = page.locator(".square-off .field-error")  # said at the row's form
    expect(error).to_be_visible()
    expect(error).to_contain_text("NOSUCHTHING")

    # A 5xx is not swapped: the banner says so. No answer at all: the banner too.
    page.goto("/queue/")
    page.route("**/queue/bulk/", lambda route: route.fulfill(status=500, body="boom"))
    page.get_by_role("button", name="Execute selected").click()
    banner = page.locator("#request-error")
    expect(banner).to_contain_text("The server could not complete that (500")
    page.unroute("**/queue/bulk/")
    page.route("**/queue/bulk/", lambda route: route.abort())
    page.get_by_role("button", name="Cancel selected").click()
    expect(banner).to_contain_text("did not answer")
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_have_count(0)
