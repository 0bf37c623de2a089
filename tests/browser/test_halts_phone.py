"""The halts page on a 390 px phone, while halted, with warnings arriving: the actions
table is stacked cards (never scrolled sideways), each banner is one line (the rest
on demand), and the page's own content starts on the first screen with nothing
lying over it."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from marketdata import refresh
from orders.execution import create_order
from orders.models import Order, Strategy
from portfolio.sync import portfolio_sync_account
from protection import halts, limits
from protection.models import LossLimit
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in
from tests.portfolio.helpers import seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = (390, 844)
LONG_REASON = (
    "Zerodha · Main trading account: Positions could not be read: the broker answered "
    "503 Service Unavailable three times in a row"
)


@pytest.fixture
def halted(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    account, peer = connected_account(emulator, user, "zerodha", "Main trading account", True)
    refresh.refresh_instruments(broker="zerodha")
    for symbol, price in (("SBIN", "600"), ("INFY", "1500"), ("TCS", "4000")):
        emulator.state.market.set_price("NSE", symbol, price)
    seed(peer, positions=[("SBIN", "MIS", 10, "600"), ("INFY", "MIS", -5, "1500")])
    assert portfolio_sync_account(account).ok
    for symbol in ("SBIN", "TCS"):
        create_order(
            user=user,
            account=account,
            symbol=f"NSE:{symbol}",
            side="BUY",
            quantity=1,
            product="MIS",
            order_type="LIMIT",
            price=Decimal("500"),
            actor="alice",
        )
    Strategy.objects.create(user=user, name="Opening range breakout", mode="AUTO")
    LossLimit.objects.create(user=user, max_loss=Decimal("1000"), unknown_pnl="warn")
    halts.kill_switch(user=user, account=None, typed="ALL", actor="alice")
    return account


LAYOUT = """() => {
  const view = {w: window.innerWidth, h: window.innerHeight};
  const heading = document.querySelector("main h1").getBoundingClientRect();
  const card = document.querySelector(".halt-card h2").getBoundingClientRect();
  const banners = [...document.querySelectorAll(".halt-banner, .toast, .messages .message")]
    .filter((el) => el.getBoundingClientRect().height > 0)
    .map((el) => ({cls: el.className, h: Math.round(el.getBoundingClientRect().height)}));
  // What is on top where the page's heading and the halt's are: they themselves.
  const covered = [];
  for (const sel of ["main h1", ".halt-card h2"]) {
    const el = document.querySelector(sel);
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + 10, box.top + Math.min(box.height, 20) / 2);
    if (!hit || !el.contains(hit)) covered.push(sel + " under " + (hit && hit.className));
  }
  const wraps = [...document.querySelectorAll(".halt-card .table-wrap")].filter(
      (w) => w.scrollWidth > w.clientWidth + 1).length;
  const row = document.querySelector(".halt-actions tbody tr");
  return {view, heading: heading.top, card: card.bottom, banners, covered, wraps,
          page: document.documentElement.scrollWidth, rowDisplay: getComputedStyle(row).display};
}"""


TAPPABLE = """(selector) => {
  const target = document.querySelector(selector);
  const box = target.getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return hit === target || target.contains(hit);
}"""


def test_on_a_phone_the_halts_page_starts_on_the_first_screen(page, halted):
    account = halted
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    sign_in(page)
    page.goto("/protection/halts/")
    page.wait_for_load_state("networkidle")  # the first toast poll starts the cursor at now
    # The watch finds this account's P&L unknown; its limit only warns.
    limit = LossLimit.objects.create(user=account.user, account=account, unknown_pnl="warn")
    limit.max_loss = Decimal("500")
    limit.save()
    limits.check_limit(limit, limits.Figures(limit=limit, errors=[LONG_REASON]))
    halts.kill_switch(user=account.user, account=None, typed="ALL", actor="alice")  # again
    expect(page.locator(".toast")).to_have_count(2, timeout=20_000)
    page.evaluate("() => window.scrollTo(0, 0)")
    found = page.evaluate(LAYOUT)
    width, height = PHONE
    assert found["page"] <= width, found
    assert found["wraps"] == 0 and found["rowDisplay"] == "flex", found  # stacked cards
    assert not found["covered"], found
    tall = [b for b in found["banners"] if b["h"] > 48]
    assert not tall, f"banners taller than one line: {tall}"
    assert found["card"] < height, f"the halt's card starts below the first screen: {found}"
    toasts = page.locator("#toasts").bounding_box()
    assert toasts["height"] <= 90, f"the toasts cover {toasts['height']} px of the screen"
    # Scrolled to the end, the last button is not under the toasts (the page makes room).
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    assert page.evaluate(TAPPABLE, ".release-form button[type=submit]")
    page.evaluate("() => window.scrollTo(0, 0)")
    # The whole warning is one tap away, not lost.
    banner = page.locator(".halt-banner").first
    banner.locator("summary").click()
    expect(banner).to_contain_text("New entries are blocked")
    # The next poll swaps the banner for a new one: it stays open.
    page.evaluate("() => { document.querySelector('.halt-banner').dataset.old = '1'; }")
    page.wait_for_function("() => !document.querySelector('.halt-banner').dataset.old")
    expect(page.locator(".halt-banner").first).to_have_attribute("open", "")
    toast = page.locator(".toast", has_text="Day P&L unknown").first
    expect(toast.locator("strong")).to_have_text("Day P&L unknown")  # no "Trading halt"
    toast.locator("summary").click()
    expect(toast).to_contain_text("trading continues without the loss limit")
    assert Order.objects.filter(status="CANCELLED").count() == 2
