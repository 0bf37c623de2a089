"""Watchlists in a real Chromium, at 1366x768 and on a 390 px phone: import with its
preview (a symbol not at the chosen broker shown as such), the live list updating
without a reload, a basket bought into the queue and executed."""

import pytest
from playwright.sync_api import expect

from marketdata import refresh
from orders.models import Order
from portfolio.live import refresh_live_quotes
from tests.brokers.peers import connected_account
from tests.browser.test_brokers import sign_in
from tests.browser.test_layout import MEASURE, SIZES
from watchlists.models import Member, Watchlist

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accounts(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    settings.LIVE_POLL_SECONDS = 0.5
    zerodha, _ = connected_account(emulator, user, "zerodha", "Main trading account", True)
    angel, _ = connected_account(emulator, user, "angelone", "Family long-term account")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    for symbol, price in (("SBIN", "800"), ("INFY", "1500"), ("TCS", "4000")):
        emulator.state.market.set_price("NSE", symbol, price)
    return zerodha, angel, emulator


def fits(page, width):
    found = page.evaluate(MEASURE)
    assert found["page"] <= width, f"the page scrolls sideways ({found['page']} > {width})"
    assert not found["outside"], f"actions out of view: {found['outside'][:4]}"


def a_scrip_only_zerodha_lists():
    """A BSE scrip at Zerodha that AngelOne's master does not have: the emulator lists the
    same scrips at both, so AngelOne's rows of one are removed (as a smaller master would)."""
    from marketdata import resolution
    from marketdata.models import Instrument

    symbol = (
        Instrument.objects.filter(broker="zerodha", exchange="BSE", instrument_type="EQ")
        .exclude(canonical_symbol__in=["SBIN", "INFY", "TCS"])
        .values_list("canonical_symbol", flat=True)
        .first()
    )
    Instrument.objects.filter(broker="angelone", canonical_symbol=symbol).delete()
    resolution.bump_version("angelone")
    return symbol


@pytest.mark.parametrize("size", list(SIZES))
def test_import_shows_the_preview_then_saves_on_confirm(page, accounts, user, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    zerodha, angel, _ = accounts
    sign_in(page)
    Watchlist.objects.create(user=user, name="An existing list with a long name to wrap")
    page.goto("/watchlists/")
    fits(page, width)
    page.get_by_role("link", name="Import a list").click()
    # Measured once the import page is there (measuring mid-navigation found no body).
    expect(page.get_by_role("heading", name="Import a list")).to_be_visible()
    fits(page, width)
    page.get_by_label("Paste the list").fill("###Banks\nNSE:SBIN,NSE:NOSUCHSTOCK\nNSE:SBIN")
    page.get_by_label("Check symbols for").select_option(label=angel.display_name)
    page.get_by_label("New list's name").fill("From TradingView")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview-table")
    expect(preview.locator("tr[data-status=resolved]")).to_contain_text("SBIN-EQ")
    expect(preview.locator("tr[data-status=unknown]")).to_contain_text("NOSUCHSTOCK")
    expect(preview.locator("tr[data-status=duplicate]")).to_have_count(1)
    expect(page.locator("#import-counts")).to_contain_text("1 to import")
    expect(page.locator("#import-counts")).to_contain_text("Skipped: 1 unknown and 1 duplicate.")
    fits(page, width)
    assert not Watchlist.objects.filter(user=user, name="From TradingView").exists()
    page.get_by_role("button", name="Import 1 symbol", exact=True).click()
    expect(page.get_by_role("heading", name="From TradingView")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Imported 1 symbol into From TradingView")
    expect(page.locator("#watchlist-table tr.member-row")).to_have_count(1)
    fits(page, width)


def test_a_symbol_not_at_the_broker_is_marked_unavailable(page, accounts, user):
    page.set_viewport_size({"width": 1366, "height": 768})
    zerodha, angel, _ = accounts
    symbol = a_scrip_only_zerodha_lists()
    sign_in(page)
    page.goto("/watchlists/import/")
    page.get_by_label("Paste the list").fill(f"NSE:SBIN,BSE:{symbol}")
    page.get_by_label("Check symbols for").select_option(label=angel.display_name)
    page.get_by_label("New list's name").fill("Mixed")
    page.get_by_role("button", name="Preview").click()
    row = page.locator("#preview-table tr[data-status=unavailable]")
    expect(row).to_contain_text(symbol)
    expect(row).to_contain_text("Not available at this broker")
    page.get_by_role("button", name="Import 2 symbols").click()
    expect(page.locator("#watchlist-table tr.member-row")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("1 of 2 symbols is not available at")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_live_list_updates_without_a_reload(page, accounts, user, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    zerodha, _, emulator = accounts
    watchlist = Watchlist.objects.create(user=user, name="Live")
    for n, symbol in enumerate(("SBIN", "INFY", "TCS")):
        Member.objects.create(watchlist=watchlist, exchange="NSE", symbol=symbol, position=n)
    sbin = watchlist.members.get(symbol="SBIN")
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    ltp = page.locator(f"#wl-{sbin.pk}-ltp")
    expect(ltp).to_have_text("—")
    page.evaluate("window.__marker = 1")
    refresh_live_quotes()  # the beat: the open page's instruments are in its plan
    expect(ltp).to_have_text("800.00")
    emulator.state.market.set_price("NSE", "SBIN", "824")
    refresh_live_quotes()
    expect(ltp).to_have_text("824.00")
    expect(page.locator(f"#wl-{sbin.pk}-pct")).to_have_class("profit")
    assert page.evaluate("window.__marker") == 1  # no reload
    fits(page, width)
    # Reorder and remove in place (HTMX), the live cells still there afterwards.
    page.get_by_role("button", name="Move down NSE:SBIN").click()
    rows = page.locator("#watchlist-table tr.member-row")
    expect(rows.first).to_have_attribute("data-symbol", "INFY")
    page.get_by_role("button", name="Remove NSE:TCS").click()
    expect(rows).to_have_count(2)
    expect(page.locator(".messages")).to_contain_text("Removed NSE:TCS")
    assert page.evaluate("window.__marker") == 1
    assert [m.symbol for m in watchlist.members.order_by("position")] == ["INFY", "SBIN"]
    # Buy on a row opens the order form for the chosen account, symbol filled in.
    page.locator(f"#wl-{sbin.pk}").get_by_role("link", name="Buy").click()
    expect(page.locator("input[name=symbol]")).to_have_value("NSE:SBIN")


def core_basket(user, symbols=("SBIN", "INFY")):
    """The basket "Core" of `symbols`, in that order."""
    watchlist = Watchlist.objects.create(user=user, name="Core", kind="BASKET")
    for n, symbol in enumerate(symbols):
        Member.objects.create(watchlist=watchlist, exchange="NSE", symbol=symbol, position=n)
    return watchlist


@pytest.mark.parametrize("size", list(SIZES))
def test_buy_a_basket_into_the_queue_and_execute(page, accounts, user, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    zerodha, _, _ = accounts
    watchlist = core_basket(user)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    card = page.locator("#basket-card")
    card.get_by_label("Funds (₹)").fill("10000")
    card.get_by_label("Allocation").select_option("EQUAL")
    card.get_by_role("button", name="Preview").click()
    expect(
        page.locator("#basket-preview-table tr[data-symbol=SBIN] [data-testid=qty]")
    ).to_have_text("6")  # 5,000 each: 6 SBIN at 800, 3 INFY at 1,500; 700 left buys none
    expect(page.locator("#basket-totals")).to_contain_text("2 orders")
    fits(page, width)
    assert not Order.objects.exists()
    card = page.locator("#basket-card")
    card.get_by_role("button", name="Buy into the queue").click()
    expect(page.locator("#basket-card .messages")).to_contain_text("2 orders in the queue")
    assert Order.objects.filter(status="WAITING").count() == 2
    page.goto("/queue/")
    for order in Order.objects.all():
        page.locator(f"#order-{order.pk}").get_by_role("button", name="Execute").click()
        expect(page.locator(f"#status-{order.pk}")).not_to_contain_text("Waiting")
    assert set(Order.objects.values_list("status", flat=True)) <= {"SENT", "EXECUTED", "OPEN"}
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    expect(page.locator(".basket-runs")).to_contain_text("Main trading account")
    expect(page.locator(".basket-runs")).to_contain_text("(queued): 2 sent")


def test_buy_now_asks_first_naming_account_orders_and_value(page, accounts, user):
    zerodha, _, _ = accounts
    watchlist = core_basket(user)
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    card = page.locator("#basket-card")
    card.get_by_label("Funds (₹)").fill("10000")
    card.get_by_label("Allocation").select_option("EQUAL")
    card.get_by_role("button", name="Buy now").click()
    step = page.locator("#basket-confirm-now")
    expect(step).to_contain_text(
        "Send 2 orders worth ₹9,346.50 to Zerodha · Main trading account now?"
    )
    assert not Order.objects.exists()  # one click sent nothing
    step.get_by_role("button", name="Send 2 orders").click()
    expect(page.locator("#basket-card .messages")).to_contain_text("2 orders sent now")
    assert asked == ["Send 2 orders worth ₹9,346.50 to Zerodha · Main trading account now?"]
    assert Order.objects.count() == 2


def test_buy_now_with_funds_changed_after_the_dialog_sends_nothing(page, accounts, user):
    """The review's path: confirm ₹10,000, type 100000 over it, click Send."""
    zerodha, _, _ = accounts
    watchlist = core_basket(user)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    card = page.locator("#basket-card")
    card.get_by_label("Funds (₹)").fill("10000")
    card.get_by_label("Allocation").select_option("EQUAL")
    card.get_by_role("button", name="Buy now").click()
    expect(page.locator("#basket-confirm-now")).to_contain_text("₹9,346.50")
    card.get_by_label("Funds (₹)").fill("100000")
    page.locator("#basket-confirm-now").get_by_role("button", name="Send 2 orders").click()
    expect(page.locator("#basket-card .messages")).to_contain_text("nothing was sent")
    assert not Order.objects.exists()
    # The plan for ₹1,00,000 is what is offered now.
    expect(page.locator("#basket-confirm-now")).not_to_contain_text("₹9,346.50")
    page.locator("#basket-confirm-now").get_by_role("button", name="Send 2 orders").click()
    expect(page.locator("#basket-card .messages")).to_contain_text("2 orders sent now")
    assert sum(o.quantity for o in Order.objects.all()) > 50


def test_a_row_save_error_shows_at_the_row_and_keeps_what_was_typed(page, accounts, user):
    zerodha, _, _ = accounts
    watchlist = core_basket(user, ("SBIN", "INFY", "TCS"))
    tcs = watchlist.members.get(symbol="TCS")
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    row = page.locator(f"#wl-{tcs.pk}")
    row.get_by_label("Quantity of NSE:TCS").fill("100000000")
    row.get_by_role("button", name="Save").click()
    row = page.locator(f"#wl-{tcs.pk}")
    error = row.locator("[data-testid=row-error]")
    expect(error).to_contain_text("Quantity: Ensure this value is less than or equal to")
    expect(error).not_to_contain_text("quantity:")
    expect(row.get_by_label("Quantity of NSE:TCS")).to_have_value("100000000")
    assert Member.objects.get(pk=tcs.pk).quantity is None


def test_sell_basket_previews_only_what_the_basket_bought_then_asks(page, accounts, user):
    from decimal import Decimal

    from marketdata.models import Instrument
    from portfolio.models import Holding
    from watchlists.models import BasketRun

    zerodha, _, _ = accounts
    watchlist = core_basket(user)
    sbin, infy = (
        Instrument.objects.get(broker="zerodha", exchange="NSE", trading_symbol=s)
        for s in ("SBIN", "INFY")
    )
    for instrument, quantity in ((sbin, 45), (infy, 12)):  # INFY 12 and SBIN 40 are older
        Holding.objects.create(
            account=zerodha,
            instrument=instrument,
            exchange="NSE",
            broker_symbol=instrument.trading_symbol,
            symbol=instrument.canonical_symbol,
            quantity=quantity,
            average_price=Decimal("100"),
            last_price=Decimal("100"),
            pnl=Decimal("0"),
        )
    run = BasketRun.objects.create(
        watchlist=watchlist, account=zerodha, account_name=zerodha.display_name, side="BUY"
    )
    run.orders.add(
        Order.objects.create(
            user=user,
            account=zerodha,
            account_name=zerodha.display_name,
            instrument=sbin,
            symbol="NSE:SBIN",
            side="BUY",
            quantity=5,
            filled_quantity=5,
            status="EXECUTED",
        )
    )
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page)
    page.goto(f"/watchlists/{watchlist.pk}/?account={zerodha.pk}")
    page.locator("#basket-card").get_by_role("button", name="Sell basket").click()
    preview = page.locator("#basket-sell-preview")
    expect(preview.locator("tr[data-symbol=SBIN] [data-testid=sell-qty]")).to_have_text("5")
    expect(preview.locator("tr[data-symbol=INFY]")).to_have_count(0)
    assert not Order.objects.filter(side="SELL").exists()  # a preview only
    preview.get_by_role("button", name="Confirm: queue sells of 1 symbol").click()
    expect(page.locator("#basket-card .messages")).to_contain_text("Sell Core")
    sells = list(Order.objects.filter(side="SELL").values_list("symbol", "quantity"))
    assert sells == [("NSE:SBIN", 5)]
