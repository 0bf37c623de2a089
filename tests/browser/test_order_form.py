"""The order forms in a real Chromium (issue 12, item 10 and the trade form's labels of
item 13): price fields by order type, GTT collapsed, Buy/Sell colours, the keyboard
autocomplete with cached LTPs (new-order form and inline edit row), modify in place."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from marketdata.models import Instrument
from marketdata.quotes import ltp
from orders.execution import create_order, execute
from orders.models import Order
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GREEN, RED = "rgb(29, 122, 70)", "rgb(180, 35, 24)"  # --ok, --bad in app.css


@pytest.fixture
def zerodha(emulator, user, settings):
    from marketdata import refresh

    settings.MARKET_ALWAYS_OPEN = True
    account, peer = connected_account(emulator, user, "zerodha", "main", default=True)
    refresh.refresh_instruments(broker="zerodha")
    emulator.state.market.set_price("NSE", "SBIN", "800")
    emulator.state.market.set_price("NSE", "INFY", "1500")
    return account, peer


def open_queue(page):
    sign_in(page)
    page.goto("/queue/")
    return page.locator("#order-form")


def test_price_and_trigger_only_for_the_types_that_use_them(page, zerodha):
    form = open_queue(page)
    price, trigger = form.get_by_label("Price", exact=True), form.get_by_label("Trigger price")
    expected = {
        "MARKET": (False, False),
        "LIMIT": (True, False),
        "SL": (True, True),
        "SL-M": (False, True),
    }
    for kind, (price_on, trigger_on) in expected.items():
        form.get_by_label("Type").select_option(kind)
        for field, on in ((price, price_on), (trigger, trigger_on)):
            if on:
                expect(field).to_be_enabled()
            else:
                expect(field).to_be_disabled()
                # Visibly so: a dashed, greyed box, not just a refused click.
                assert field.evaluate("e => getComputedStyle(e).borderStyle") == "dashed"
    # A form re-rendered with errors keeps the rule (htmx swapped it in).
    form.get_by_label("Type").select_option("LIMIT")
    form.get_by_label("Instrument").fill("NSE:SBIN")
    form.get_by_role("button", name="Add to queue").click()
    expect(page.locator("#order-form")).to_contain_text("A LIMIT order needs a price.")
    expect(page.locator("#order-form").get_by_label("Trigger price")).to_be_disabled()
    expect(page.locator("#order-form").get_by_label("Price", exact=True)).to_be_enabled()


def test_gtt_is_collapsed_until_chosen(page, zerodha):
    form = open_queue(page)
    details = form.locator("details.gtt")
    expect(details).not_to_have_attribute("open", re.compile(".*"))
    expect(form.get_by_label("Trigger value")).to_be_hidden()
    details.locator("summary").click()
    expect(form.get_by_label("Trigger value")).to_be_visible()


def test_buy_and_sell_colour_the_side_and_the_submit_button(page, zerodha):
    form = open_queue(page)
    side, submit = form.get_by_label("Side"), form.get_by_role("button", name="Add to queue")
    style = "e => getComputedStyle(e).{}"
    assert submit.evaluate(style.format("backgroundColor")) == GREEN
    assert side.evaluate(style.format("borderTopColor")) == GREEN
    side.select_option("SELL")
    assert submit.evaluate(style.format("backgroundColor")) == RED
    assert side.evaluate(style.format("borderTopColor")) == RED


def test_autocomplete_by_keyboard_with_cached_ltp_and_no_broker_call(page, zerodha, emulator):
    account, peer = zerodha
    sbin = Instrument.objects.get(broker="zerodha", exchange="NSE", trading_symbol="SBIN")
    ltp(account=account, instruments=[sbin])  # the shared cache holds SBIN's price
    quotes_before = emulator.state.count("kite", "quote")
    form = open_queue(page)
    symbol = form.get_by_label("Instrument")
    symbol.press_sequentially("SBI")
    options = page.locator("#instrument-results li[role=option]")
    expect(options.first).to_contain_text("SBIN")
    expect(options.first).to_contain_text("₹800.00")  # LTP from the cache
    assert emulator.state.count("kite", "quote") == quotes_before  # no call per keystroke
    expect(symbol).to_have_attribute("aria-expanded", "true")

    symbol.press("ArrowDown")
    first_id = options.first.get_attribute("id")
    expect(symbol).to_have_attribute("aria-activedescendant", first_id)
    expect(options.first).to_have_attribute("aria-selected", "true")
    if options.count() > 1:
        symbol.press("ArrowDown")
        expect(symbol).to_have_attribute(
            "aria-activedescendant", options.nth(1).get_attribute("id")
        )
        symbol.press("ArrowUp")
        expect(symbol).to_have_attribute("aria-activedescendant", first_id)
    symbol.press("Enter")  # picks; does not submit the form
    expect(symbol).to_have_value("NSE:SBIN")
    expect(options).to_have_count(0)
    assert not Order.objects.exists()

    symbol.fill("")
    symbol.press_sequentially("INF")
    expect(options.first).to_be_visible()
    symbol.press("Escape")
    expect(options).to_have_count(0)
    expect(symbol).to_have_attribute("aria-expanded", "false")

    symbol.press_sequentially("Y")
    expect(options.first).to_be_visible()
    symbol.press("Tab")  # leaving the field closes its list
    expect(options).to_have_count(0)


def test_inline_edit_row_has_its_own_autocomplete(page, zerodha):
    account, _ = zerodha
    order = create_order(
        user=account.user, account=account, symbol="NSE:SBIN", side="BUY", quantity=1, actor="a"
    )
    open_queue(page)
    page.locator(f"#order-{order.pk}").get_by_role("button", name="Edit").click()
    edit = page.locator(f"#edit-{order.pk}")
    symbol = edit.get_by_label("Instrument")
    symbol.fill("")
    symbol.press_sequentially("INF")
    options = page.locator(f"#edit-{order.pk}-symbol-results li[role=option]")
    expect(options.first).to_contain_text("INFY")
    expect(page.locator("#instrument-results li[role=option]")).to_have_count(0)
    symbol.press("ArrowDown")
    symbol.press("Enter")
    expect(symbol).to_have_value("NSE:INFY")
    edit.get_by_role("button", name="Save").click()
    expect(page.locator(f"#order-{order.pk}")).to_contain_text("INFY")
    order.refresh_from_db()
    assert order.symbol == "NSE:INFY"


def test_trade_form_labels_sit_beside_their_checkboxes_and_radios(page, zerodha):
    account, _ = zerodha
    sign_in(page)
    page.goto(reverse("portfolio:holdings-trade") + f"?account={account.pk}&symbol=NSE:SBIN")
    form = page.locator("#trade-form")
    choices = form.locator("input[type=radio], input[type=checkbox]")
    assert choices.count() >= 3  # Then: queue / send, and AMO
    for i in range(choices.count()):
        box = choices.nth(i).bounding_box()
        label = choices.nth(i).locator("xpath=ancestor::label[1]").bounding_box()
        assert box["width"] < 30, "a radio or checkbox stretched across the form"
        assert label["height"] < 2.5 * box["height"] + 10, "label text not on the input's line"
        assert label["x"] <= box["x"] < label["x"] + 10  # the input starts its label


def test_modify_on_the_orders_page_in_place(page, zerodha):
    account, peer = zerodha
    order = execute(
        order=create_order(
            user=account.user,
            account=account,
            symbol="NSE:INFY",
            side="BUY",
            quantity=2,
            order_type="LIMIT",
            price=Decimal("1400"),
            actor="a",
        ),
        actor="a",
    )
    sign_in(page)
    page.goto("/orders/")
    row = page.locator(f"#order-{order.pk}")
    row.get_by_role("button", name="Modify", exact=True).click()
    form = page.locator(f"#modify-{order.pk}")
    expect(form.get_by_label("Quantity")).to_have_value("2")
    form.get_by_label("Quantity").fill("3")
    form.get_by_label("Price").fill("1400.03")
    form.get_by_role("button", name="Send modify").click()
    expect(page.locator(f"#modify-{order.pk}")).to_contain_text("not a multiple of the tick size")
    assert peer.user.book.orders[order.broker_order_id].quantity == 2
    form = page.locator(f"#modify-{order.pk}")
    form.get_by_label("Type").select_option("MARKET")
    expect(form.get_by_label("Price")).to_be_disabled()
    form.get_by_label("Type").select_option("LIMIT")
    form.get_by_label("Price").fill("1405")
    form.get_by_role("button", name="Send modify").click()
    expect(page.locator(f"#modify-{order.pk}")).to_contain_text("modify sent to")
    remote = peer.user.book.orders[order.broker_order_id]
    assert (remote.quantity, remote.price) == (3, Decimal("1405"))
