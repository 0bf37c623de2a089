"""Settings → Risk, the kill switch and the halt banner in a real Chromium, at a
1366x768 laptop and a 390 px phone."""

import pytest
from playwright.sync_api import expect

from marketdata import refresh
from orders.models import TradingHalt
from portfolio.sync import portfolio_sync_account
from protection.models import HaltAction, LossLimit
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in
from tests.portfolio.helpers import seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


@pytest.fixture
def desk(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    account, peer = connected_account(emulator, user, "zerodha", "main", default=True)
    refresh.refresh_instruments(broker="zerodha")
    emulator.state.market.set_price("NSE", "SBIN", "600")
    seed(peer, positions=[("SBIN", "MIS", 10, "600")])
    assert portfolio_sync_account(account).ok
    return account, peer


def fits(page, width):
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll} > {width}"


@pytest.mark.parametrize("size", list(SIZES))
def test_limit_kill_switch_and_banner(page, desk, size):
    account, peer = desk
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page)

    # Settings → Risk: a bad value is refused at its field, a good one saved.
    page.goto("/settings/#risk-limits")
    card = page.locator("#risk-limits")
    card.get_by_label("Applies to").select_option(label="Zerodha · main")
    card.get_by_label("Max loss today").fill("-500")
    card.get_by_role("button", name="Save daily limit").click()
    field = page.locator("#risk-limits .field-max_loss")
    expect(field.locator(".field-error")).to_contain_text("more than 0")
    fits(page, width)
    assert not LossLimit.objects.exists()
    # A typo no day can reach (1e15) is refused at its field with the bound.
    page.locator("#risk-limits").get_by_label("Max loss today").fill("1e15")
    page.locator("#risk-limits").get_by_role("button", name="Save daily limit").click()
    expect(field.locator(".field-error")).to_contain_text("at most ₹ 100 crore")
    fits(page, width)
    assert not LossLimit.objects.exists()
    page.locator("#risk-limits").get_by_label("Max loss today").fill("500")
    page.locator("#risk-limits").get_by_role("button", name="Save daily limit").click()
    expect(page.locator(".message-success")).to_contain_text("Daily loss limit for Zerodha · main")
    limit = LossLimit.objects.get()
    assert limit.account == account and str(limit.max_loss) == "500.00"

    # The dashboard shows today's P&L against it.
    page.goto("/")
    expect(page.locator("#day-pnl-limits")).to_contain_text("Zerodha · main")
    fits(page, width)
    table = page.locator("#day-pnl-limits table")  # read whole, not scrolled sideways
    assert table.evaluate("(t) => t.scrollWidth <= t.clientWidth + 1"), "the card scrolls"

    # The kill switch, from the top bar, behind the typed confirmation.
    page.get_by_role("link", name="Kill switch").click()
    page.get_by_label("Stop trading on").select_option(label="Zerodha · main")
    page.get_by_label("Type the account's name (or ALL) to confirm").fill("Main")
    page.get_by_role("button", name="Stop trading now").click()
    expect(page.locator(".field-typed .field-error")).to_contain_text("Type main exactly")
    assert not TradingHalt.objects.exists()
    fits(page, width)
    page.get_by_label("Type the account's name (or ALL) to confirm").fill("main")
    page.get_by_role("button", name="Stop trading now").click()
    expect(page.get_by_role("heading", name="Trading halts today")).to_be_visible()
    halt = TradingHalt.objects.get()
    assert halt.reason == "kill_switch" and halt.account == account
    assert HaltAction.objects.get(halt=halt, kind="square_off").state == "done"
    expect(page.locator(".halt-actions")).to_contain_text("Square off a position")
    fits(page, width)

    # The banner is on every page while halted.
    for url in ("/", "/orders/", "/settings/"):
        page.goto(url)
        expect(page.locator(".halt-banner")).to_contain_text("Trading halted — Zerodha · main")
        fits(page, width)
        # Review 8: on a phone the account is cut to "Zerod…" (one line per banner, so
        # several never push the page off the first screen): in full one tap away.
        page.locator(".halt-banner summary").click()
        expect(page.locator(".halt-banner .halt-in-full")).to_contain_text(
            "Halted: Zerodha · main, kill switch at"
        )
        assert page.locator(".halt-banner .halt-in-full").is_visible()

    # Released with RELEASE typed: the banner goes.
    page.goto("/protection/halts/")
    page.get_by_label("Type RELEASE to confirm").fill("release")
    page.get_by_role("button", name="Release the halt").click()
    expect(page.locator(".field-error")).to_contain_text("Type RELEASE exactly")
    page.get_by_label("Type RELEASE to confirm").fill("RELEASE")
    page.get_by_role("button", name="Release the halt").click()
    expect(page.locator(".message-success")).to_contain_text("released")
    expect(page.locator(".halt-banner")).to_have_count(0)


# Where the button is, is it the button a tap reaches (not a toast lying over it)?
TAPPABLE = """(selector) => {
  const target = document.querySelector(selector);
  const box = target.getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return hit === target || target.contains(hit);
}"""


def test_on_a_phone_toasts_never_lie_over_the_kill_switch(page, desk):
    """The review: two rejection toasts covered 'Stop trading now' on a 390 px phone."""
    from orders.execution import create_order
    from orders.history import log
    from orders.models import Order

    account, _ = desk
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto("/protection/kill-switch/")
    page.wait_for_load_state("networkidle")  # the first toast poll starts the cursor at now
    for _ in range(2):  # two rejections arrive, not closed yet
        order = create_order(
            user=account.user,
            account=account,
            symbol="NSE:SBIN",
            side="BUY",
            quantity=1,
            product="MIS",
            actor="alice",
        )
        Order.objects.filter(pk=order.pk).update(status="REJECTED", status_message="RMS")
        order.refresh_from_db()
        log(order, "status", "Rejected: RMS", before="SENT")
    expect(page.locator(".toast")).to_have_count(2, timeout=20_000)
    button = page.get_by_role("button", name="Stop trading now")
    button.scroll_into_view_if_needed()
    assert page.evaluate(TAPPABLE, "#kill-switch-confirm")


def test_a_number_field_holding_no_number_says_so(page, desk):
    """A number input with "12e" reads as empty in the browser, so the server said the
    field was missing ("Set a max loss or a profit target"), not that it was no number."""
    sign_in(page)
    page.goto("/settings/#risk-limits")
    card = page.locator("#risk-limits")
    card.get_by_label("Max loss today").press_sequentially("12e")
    assert card.get_by_label("Max loss today").evaluate("input => input.validity.badInput")
    card.get_by_role("button", name="Save daily limit").click()
    field = page.locator("#risk-limits .field-max_loss")
    expect(field.locator(".field-error")).to_contain_text("Enter a number.")
    assert not LossLimit.objects.exists()
