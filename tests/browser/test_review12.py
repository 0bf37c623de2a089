"""Issue 12 review in a real Chromium: Cancel on the Orders page asks first, a partial
square-off says how many, the live polls raise no console errors."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.execution import execute
from orders.models import Order
from tests.browser.test_brokers import sign_in
from tests.browser.test_live import kite  # noqa: F401 (the fixture)
from tests.browser.test_portfolio import portfolio  # noqa: F401 (the fixture)
from tests.site.test_live import new

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cancel_on_the_orders_page_asks_first(page, kite):  # noqa: F811
    account, emulator = kite
    order = execute(
        order=new(account, "SBIN", order_type="LIMIT", price=Decimal("700")), actor="alice"
    )
    assert order.status in ("SENT", "OPEN")
    sign_in(page)
    page.goto("/orders/")
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator(f"#actions-{order.pk}").get_by_role("button", name="Cancel").click()
    page.wait_for_timeout(500)
    assert asked == [f"Cancel order {order.pk} (BUY 2 NSE:SBIN) at {order.account_name}?"]
    order.refresh_from_db()
    assert order.status in ("SENT", "OPEN")  # declined: nothing sent
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#actions-{order.pk}").get_by_role("button", name="Cancel").click()
    expect(page.locator(".message-success")).to_contain_text("cancel sent")


def test_a_partial_square_off_says_how_many(page, portfolio):  # noqa: F811
    main, family, family_peer = portfolio
    from portfolio.sync import portfolio_sync_account

    portfolio_sync_account(family)
    sign_in(page)
    page.goto(f"/positions/?account={family.pk}")
    row = page.locator(".position-row[data-symbol=TCS]")
    row.locator("input[name=quantity]").fill("1")
    asked = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Square off").click()
    expect(page.locator(".message-success")).to_contain_text("Square-off order")
    assert asked and asked[0].startswith("Exit 1 of 3 TCS MIS in "), asked
    assert Order.objects.get().quantity == 1


@pytest.mark.parametrize("url", ["/orders/", "/queue/?scope=all"])
def test_the_live_polls_raise_no_console_errors(page, kite, url):  # noqa: F811
    account, emulator = kite
    for symbol in ("SBIN", "TCS"):
        execute(order=new(account, symbol, order_type="LIMIT", price=Decimal("100")), actor="a")
        new(account, symbol)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page)
    page.goto(url)
    if "queue" in url:  # an open edit has no price or status block on show
        page.locator("#queue").get_by_role("button", name="Edit").first.click()
        expect(page.locator("tr.editing")).to_have_count(1)
    with page.expect_response(lambda r: "/live/orders/" in r.url):
        pass
    with page.expect_response(lambda r: "/live/orders/" in r.url):
        pass
    page.wait_for_timeout(300)
    assert not errors, errors


def test_after_a_modify_the_row_shows_the_new_terms_and_no_stale_price(page, kite):  # noqa: F811
    account, emulator = kite
    order = execute(
        order=new(account, "SBIN", order_type="LIMIT", price=Decimal("700")), actor="alice"
    )
    sign_in(page)
    page.goto("/orders/")
    row = page.locator(f"#order-{order.pk}")
    expect(row.locator(f"#terms-{order.pk}")).to_contain_text("LIMIT")
    expect(row.locator(f"#price-{order.pk}")).to_contain_text("₹700.00")
    row.get_by_role("button", name="Modify", exact=True).click()
    form = page.locator(f"#modify-{order.pk}")
    form.get_by_label("Quantity").fill("3")
    form.get_by_label("Type").select_option("MARKET")
    form.get_by_role("button", name="Send modify").click()
    expect(page.locator(f"#modify-{order.pk}")).to_contain_text("modify sent to")
    # Without a reload: the row reads the new quantity and type, and no price.
    expect(row.locator(f"#terms-{order.pk}")).to_contain_text("BUY 3")
    expect(row.locator(f"#terms-{order.pk}")).to_contain_text("MARKET")
    expect(row.locator(f"#price-{order.pk}")).not_to_contain_text("700")
    order.refresh_from_db()
    assert (order.order_type, order.quantity, order.price) == ("MARKET", 3, None)
    page.reload()
    expect(page.locator(f"#price-{order.pk}")).not_to_contain_text("700")


@pytest.mark.parametrize("width", [1366, 390])
def test_settings_checkbox_beside_its_label_and_a_loss_tile_is_red(page, kite, width):  # noqa: F811
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page)
    page.goto("/settings/")
    box = page.get_by_label("Allow short selling")
    label = page.locator("label", has=box)
    b, lab = box.bounding_box(), label.bounding_box()
    assert b["width"] < 30, "the checkbox stretched across the form"
    assert lab["height"] < 2.5 * b["height"] + 10, "the label text is not on the checkbox's line"
    assert lab["x"] <= b["x"] < lab["x"] + 10
    page.goto("/")
    colours = page.evaluate(
        """() => {
          const tile = document.createElement("a");
          tile.className = "tile";
          tile.innerHTML = '<p class="figure loss">-₹1</p><p class="figure profit">₹1</p>';
          document.querySelector("main").appendChild(tile);
          return [...tile.children].map((p) => getComputedStyle(p).color);
        }"""
    )
    assert colours == ["rgb(180, 35, 24)", "rgb(29, 122, 70)"]


def test_toasts_read_rupees_stack_four_and_successes_close_themselves(page, kite):  # noqa: F811
    from orders.models import OrderEvent

    account, emulator = kite
    orders = [new(account, "SBIN", quantity=1500) for _ in range(5)]
    sign_in(page)
    page.goto("/orders/")
    with page.expect_response(lambda r: "/live/toasts/" in r.url):
        pass  # the first poll starts this session's cursor
    page.clock.install()
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        average_price=Decimal("803.4"), filled_quantity=1500
    )
    rejected = new(account, "TCS")
    Order.objects.filter(pk=rejected.pk).update(status_message="RMS: no margin")
    for order in [*orders, rejected]:
        OrderEvent.objects.create(
            order=order,
            kind="sync",
            actor="sync",
            to_status="EXECUTED" if order in orders else "REJECTED",
            message="x",
        )
    page.clock.run_for(1500)
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(4)
    expect(toasts.first).to_contain_text("at ₹803.40")
    expect(toasts.first).to_contain_text("BUY 1,500 SBIN")
    expect(page.locator("#toasts .toast-bad")).to_have_count(1)
    page.clock.run_for(9000)
    expect(page.locator("#toasts .toast-ok")).to_have_count(0)
    expect(page.locator("#toasts .toast-bad")).to_have_count(1)  # an error stays


def test_on_a_phone_a_refused_form_brings_its_first_error_into_view(page, kite):  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto("/queue/")
    form = page.locator("#order-form")
    form.get_by_label("Instrument").fill("NSE:SBIN")
    form.get_by_label("Type").select_option("LIMIT")
    submit = form.get_by_role("button", name="Add to queue")
    submit.evaluate("(b) => { b.scrollIntoView({block: 'start'}); window.scrollBy(0, -4); }")
    submit.click()
    error = page.locator("#order-form .field-error").first
    expect(error).to_contain_text("A LIMIT order needs a price.")
    expect(error).to_be_in_viewport()
    expect(page.locator("#order-form").get_by_label("Price", exact=True)).to_be_focused()


def test_a_long_strategy_name_is_clipped_and_the_table_fits_at_1366(page, kite):  # noqa: F811
    from orders.models import Strategy

    account, emulator = kite
    name = "MomentumBreakoutNiftyFiftyConstituentsVolumeConfirmedTrailingStopLossVersion2X"
    assert len(name) <= 80
    Strategy.objects.create(user=account.user, name=name)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page)
    page.goto("/settings/")
    cell = page.locator("#strategy-table tbody tr").first.locator("td").first
    expect(cell).to_have_attribute("title", name)
    found = page.evaluate(
        """() => {
          const wrap = document.querySelector("#strategy-table").closest(".table-wrap");
          const row = document.querySelector("#strategy-table tbody tr");
          const covered = [...row.cells].slice(3, 5).filter((cell) => {
            const box = cell.getBoundingClientRect();
            const top = document.elementFromPoint(box.left + 4, box.top + box.height / 2);
            return !cell.contains(top);
          }).length;
          return {scrolls: wrap.scrollWidth > wrap.clientWidth + 1, covered};
        }"""
    )
    assert found == {"scrolls": False, "covered": 0}
