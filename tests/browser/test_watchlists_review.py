"""What a fresh-eye review of watchlists and baskets found, in a real Chromium: the queue
staying on the account its orders belong to, basket orders named as such, the order form
leading back to the list, sorting and reordering, wording, the autocomplete, layout."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order
from tests.browser import test_watchlists
from tests.browser.test_brokers import sign_in
from tests.browser.test_layout import SIZES
from watchlists.models import Member, Watchlist

accounts = test_watchlists.accounts  # the same fixture: Zerodha (default) and AngelOne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_basket(user, symbols=("SBIN", "INFY"), name="Core"):
    watchlist = Watchlist.objects.create(user=user, name=name, kind="BASKET")
    for n, symbol in enumerate(symbols):
        Member.objects.create(watchlist=watchlist, exchange="NSE", symbol=symbol, position=n)
    return watchlist


def buy_into_queue(page, watchlist, account, funds="10000"):
    page.goto(f"/watchlists/{watchlist.pk}/?account={account.pk}")
    card = page.locator("#basket-card")
    card.get_by_label("Funds (₹)").fill(funds)
    card.get_by_label("Allocation").select_option("EQUAL")
    card.get_by_role("button", name="Buy into the queue").click()
    expect(page.locator("#basket-card .messages")).to_contain_text("in the queue")


def test_the_queue_stays_on_the_basket_account_and_an_empty_view_points_to_it(page, accounts, user):
    zerodha, angel, _ = accounts  # Zerodha is the default account
    watchlist = a_basket(user)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page)
    buy_into_queue(page, watchlist, angel)
    orders = list(Order.objects.filter(account=angel).order_by("pk"))
    assert len(orders) == 2
    # The basket card links to the queue its orders wait in.
    page.locator(".basket-runs").get_by_role("link", name="its queue").click()
    expect(page.locator(f"#order-{orders[0].pk}")).to_be_visible()
    # The default account's queue is empty, and says where orders wait (with a link).
    page.goto(f"/queue/?account={zerodha.pk}")
    elsewhere = page.locator("#queue-elsewhere")
    expect(elsewhere).to_contain_text(f"Nothing waiting for {zerodha.display_name}")
    expect(elsewhere).to_contain_text(f"{angel.display_name} (2 orders)")
    elsewhere.get_by_role("link", name=f"{angel.display_name} (2 orders)").click()
    expect(page.locator("#queue tr.queue-row")).to_have_count(2)
    # Another tab views the default account: this tab's Execute stays on its account.
    other = page.context.new_page()
    other.goto(f"/queue/?account={zerodha.pk}")
    other.close()
    page.get_by_label(f"Select order {orders[0].pk}").check()
    page.get_by_role("button", name="Execute selected").click()
    expect(page.locator(".messages")).to_contain_text("1 sent")
    expect(page.locator(f"#order-{orders[1].pk}")).to_be_visible()
    expect(page.locator("#queue-body")).not_to_contain_text("The queue is empty")


def test_basket_orders_say_basket_and_filter_by_it(page, accounts, user):
    zerodha, _, _ = accounts
    watchlist = a_basket(user)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page)
    buy_into_queue(page, watchlist, zerodha)
    assert set(Order.objects.values_list("source", flat=True)) == {"basket"}
    page.goto("/orders/")
    page.get_by_label("Source").select_option(label="Basket")
    expect(page).to_have_url(re.compile("source=basket"))
    table = page.locator("#orders-table")
    expect(table).to_contain_text("Basket")
    expect(table).not_to_contain_text("Manual")


def test_buy_from_a_watchlist_row_names_the_list_and_leads_back(page, accounts, user):
    zerodha, _, _ = accounts
    watchlist = Watchlist.objects.create(user=user, name="Momentum picks")
    sbin = Member.objects.create(watchlist=watchlist, exchange="NSE", symbol="SBIN", position=0)
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    page.locator(f"#wl-{sbin.pk}").get_by_role("link", name="Sell").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Trade from Momentum picks")
    expect(heading).not_to_contain_text("holdings")
    expect(page.get_by_role("link", name="Back to holdings")).to_have_count(0)
    # A refused order (quantity 0) re-renders with the same title and way back.
    page.get_by_label("Quantity").fill("0")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Trade from Momentum picks")
    page.get_by_role("link", name="Back to Momentum picks").click()
    expect(page.get_by_role("heading", name="Momentum picks")).to_be_visible()
    assert f"account={zerodha.pk}" in page.url


def test_sorting_survives_an_error_and_reordering_only_in_list_order(page, accounts, user):
    zerodha, _, _ = accounts
    watchlist = Watchlist.objects.create(user=user, name="Live")
    for n, symbol in enumerate(("SBIN", "INFY", "TCS")):
        Member.objects.create(watchlist=watchlist, exchange="NSE", symbol=symbol, position=n)
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}&sort=symbol")
    rows = page.locator("#watchlist-table tr.member-row")
    expect(rows.first).to_have_attribute("data-symbol", "INFY")
    # Sorted: no reordering offered, and the page says why.
    expect(page.get_by_role("button", name="Move up NSE:TCS")).to_have_count(0)
    expect(page.locator("#sorted-note")).to_contain_text("set Sort to “List order”")
    # An error (an unknown symbol) re-renders the list still sorted.
    page.get_by_label("Add a symbol").fill("NOSUCHSTOCK")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#add-member-form .field-error")).to_be_visible()
    expect(rows.first).to_have_attribute("data-symbol", "INFY")
    expect(page.get_by_label("Sort")).to_have_value("symbol")
    # In list order: the ends cannot move past themselves; top and bottom in one step.
    page.get_by_label("Sort").select_option(label="List order")
    expect(rows.first).to_have_attribute("data-symbol", "SBIN")
    expect(page.get_by_role("button", name="Move up NSE:SBIN")).to_be_disabled()
    expect(page.get_by_role("button", name="Move to top NSE:SBIN")).to_be_disabled()
    expect(page.get_by_role("button", name="Move down NSE:TCS")).to_be_disabled()
    expect(page.get_by_role("button", name="Move to bottom NSE:TCS")).to_be_disabled()
    expect(page.get_by_role("button", name="Move up NSE:INFY")).to_be_enabled()
    page.get_by_role("button", name="Move to top NSE:TCS").click()
    expect(rows.first).to_have_attribute("data-symbol", "TCS")
    page.get_by_role("button", name="Move to bottom NSE:SBIN").click()
    expect(rows.last).to_have_attribute("data-symbol", "SBIN")
    assert [m.symbol for m in watchlist.members.order_by("position")] == ["TCS", "INFY", "SBIN"]


def test_the_autocomplete_overlays_and_enter_on_a_suggestion_adds_it(page, accounts, user):
    page.set_viewport_size({"width": 1366, "height": 768})
    zerodha, _, _ = accounts
    watchlist = Watchlist.objects.create(user=user, name="Empty")
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    below = page.locator("#watchlist-body .empty-state")
    before = below.bounding_box()
    field = page.get_by_label("Add a symbol")
    field.press_sequentially("INF")
    options = page.locator("#add-results li[role=option]")
    expect(options.first).to_be_visible()
    assert below.bounding_box()["y"] == before["y"], "the suggestions pushed the page down"
    field.press("ArrowDown")
    field.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Added NSE:INFY")
    expect(page.locator("#watchlist-table tr.member-row")).to_have_count(1)
    assert [m.label for m in watchlist.members.all()] == ["NSE:INFY"]


LAYOUT = """() => {
    const lines = (node) => {  // how many lines a text node takes
        const range = document.createRange();
        range.selectNodeContents(node);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    };
    const textOf = (label, word) =>
        [...label.childNodes].find((n) => n.nodeType === 3 && n.textContent.includes(word));
    const lock = [...document.querySelectorAll("form.member-basket label")].find(
        (l) => l.textContent.includes("Lock"));
    const amo = document.querySelector("#basket-form .field.checkbox label");
    const box = amo.querySelector("input").getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(textOf(amo, "AMO"));
    const height = (el) => Math.round(el.getBoundingClientRect().height);
    const acts = document.querySelector("#watchlist-body .queue-head .acts");
    return {
        lockLines: lines(textOf(lock, "Lock")),
        amoGap: range.getClientRects()[0].left - box.right,
        amoBox: box.width,
        amountWidth: document.querySelector("input[name$='-amount']").getBoundingClientRect().width,
        exportHeight: height([...acts.querySelectorAll("a")].find((a) => a.textContent.includes("Export CSV"))),
        duplicateHeight: height([...acts.querySelectorAll("button")].find((b) => b.textContent.includes("Duplicate"))),
    };
}"""


@pytest.mark.parametrize("size", list(SIZES))
def test_basket_page_layout(page, accounts, user, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    zerodha, _, _ = accounts
    watchlist = a_basket(user)
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    found = page.evaluate(LAYOUT)
    assert found["lockLines"] == 1, "the row's Lock label wraps"
    assert found["amoBox"] <= 24, f"the AMO box is {found['amoBox']}px wide (centred far away)"
    assert 0 <= found["amoGap"] <= 16, f"the AMO label is {found['amoGap']}px from its box"
    if size == "laptop":
        assert found["amountWidth"] >= 120, "the ₹ amount field is too narrow for ₹1,00,000.00"
    assert abs(found["exportHeight"] - found["duplicateHeight"]) <= 1, found
    test_watchlists.fits(page, width)


def test_one_action_on_a_basket_page_says_one_message(page, accounts, user):
    zerodha, _, _ = accounts
    watchlist = a_basket(user)
    sbin = watchlist.members.get(symbol="SBIN")
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    # The basket card inside the list's body does not repeat the body's message.
    row = page.locator(f"#wl-{sbin.pk}")
    row.get_by_label("Amount of NSE:SBIN").fill("100000.50")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".messages li", has_text="Saved NSE:SBIN")).to_have_count(1)
    expect(page.get_by_label("Amount of NSE:SBIN")).to_have_value("100000.50")


def test_import_says_not_available_when_only_the_chosen_broker_list_is_loaded(page, accounts, user):
    from marketdata import resolution
    from marketdata.models import Instrument

    _, angel, _ = accounts
    symbol = test_watchlists.a_scrip_only_zerodha_lists()
    Instrument.objects.filter(broker="zerodha").delete()  # no other broker's list to ask
    resolution.bump_version("zerodha")
    sign_in(page)
    page.goto("/watchlists/import/")
    page.get_by_label("Paste the list").fill(f"NSE:SBIN,BSE:{symbol}")
    page.get_by_label("Check symbols for").select_option(label=angel.display_name)
    page.get_by_label("New list's name").fill("Mixed")
    page.get_by_role("button", name="Preview").click()
    row = page.locator(f"#preview-table tr[data-raw='BSE:{symbol}']")
    expect(row).to_contain_text("Not available at this broker")
    expect(page.locator("#import-counts")).to_contain_text("1 to import")
