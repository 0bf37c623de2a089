"""Issue 12, items 9 and 10 (server side): pre-trade numbers from one broker request,
order rules applied when an order is created or edited (shown on the form's field),
canonical symbols, validity and disclosed quantity by capability, modify on the
Orders page, partial exit from a position."""

from decimal import Decimal

import pytest
from django.urls import reverse

from brokers.base import Validity, Variety
from emulator.kite import _charges
from marketdata.models import Instrument
from orders.broker_request import broker_request
from orders.execution import create_order, execute
from orders.models import Order
from orders.validation import InvalidOrder
from tests.orders.test_order_lifecycle import new, trading  # noqa: F401 (the fixture)
from tests.orders.test_queue_views import HX, page, post_new  # noqa: F401 (the fixture)


def field_errors(body: str, field: str) -> str:
    """The text of the form field's wrapper that carries the error class."""
    marker = f"field-{field} has-error"
    assert marker in body, f"no error shown on {field}"
    start = body.index(marker)
    return body[start : body.index("</div>\n", body.index("field-error", start))]


# --- One broker request (item 9) ----------------------------------------------------------


def test_placement_and_preview_build_the_same_request(trading):  # noqa: F811
    account, _ = trading
    order = new(account, variety="AMO", validity="IOC")
    placed = broker_request(order)
    previewed = broker_request(order, estimate=Decimal("800"))
    assert placed.variety is Variety.AMO and previewed.variety is Variety.AMO
    assert placed.validity is Validity.IOC and previewed.validity is Validity.IOC
    assert placed.price is None  # a MARKET order is never placed with a price
    assert previewed.price == Decimal("800")  # ...but previewed at an estimate
    limit = new(account, order_type="LIMIT", price=Decimal("790"), trigger_price=Decimal("1"))
    request = broker_request(limit, estimate=Decimal("800"))
    assert request.price == Decimal("790") and request.trigger_price is None


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_market_preview_charges_at_ltp_not_zero(page):  # noqa: F811
    client, account, peer = page
    order = new(account)  # MARKET, 2 × SBIN, LTP 800
    body = client.get(reverse("orders:queue-preview", args=[order.pk]), headers=HX).content.decode()
    expected = _charges(Decimal("1600"), {"transaction_type": "BUY"})["total"]
    assert expected > 0
    assert f"charges ₹{expected:,.2f}" in body
    assert "estimate at LTP ₹800.00" in body


@pytest.mark.parametrize("trading", ["zerodha"], indirect=True)
def test_market_preview_without_a_price_shows_no_charges(page, settings):  # noqa: F811
    client, account, peer = page
    order = new(account, "TCS")
    peer.server.state.market.set_price("NSE", "TCS", "0")  # no last price to estimate at
    body = client.get(reverse("orders:queue-preview", args=[order.pk]), headers=HX).content.decode()
    assert "charges ₹0.00" not in body and "not estimated" in body


# --- Rules when an order is created or edited (item 9) --------------------------------------


def test_off_tick_price_is_refused_on_the_price_field(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, order_type="LIMIT", price="812.33")
    assert response.status_code == 422
    assert "812.33 is not a multiple of the tick size 0.05" in field_errors(
        response.content.decode(), "price"
    )
    assert not Order.objects.exists()


def test_lot_size_mismatch_is_refused_on_the_quantity_field(page):  # noqa: F811
    client, account, _ = page
    future = Instrument.objects.filter(
        broker=account.broker, exchange="NFO", instrument_type="FUT"
    ).first()
    assert future.lot_size > 1
    response = post_new(
        client,
        account,
        symbol=f"NFO:{future.trading_symbol}",
        quantity=future.lot_size + 1,
        product="NRML",
    )
    assert response.status_code == 422
    assert f"not a multiple of the lot size {future.lot_size}" in field_errors(
        response.content.decode(), "quantity"
    )
    assert not Order.objects.exists()


def test_an_index_is_refused_on_the_symbol(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, symbol="NSE:NIFTY 50")
    body = response.content.decode()
    assert response.status_code == 422 and "NIFTY 50 is an index: it cannot be traded." in body
    assert "symbol-field has-error" in body
    assert not Order.objects.exists()


def test_lower_case_symbol_is_stored_canonical(page):  # noqa: F811
    client, account, _ = page
    assert post_new(client, account, symbol="nse:sbin").status_code == 200
    order = Order.objects.get()
    assert order.symbol == "NSE:SBIN" and order.instrument.canonical_symbol == "SBIN"
    plain = create_order(
        user=account.user, account=account, symbol=" infy ", side="BUY", quantity=1, actor="a"
    )
    assert plain.symbol == "NSE:INFY"


def test_service_refuses_what_execution_would(trading):  # noqa: F811
    account, peer = trading
    with pytest.raises(InvalidOrder) as refused:
        new(account, order_type="LIMIT", price=Decimal("812.33"))
    assert refused.value.field == "price"
    assert not Order.objects.exists()


def test_inline_edit_refuses_an_off_tick_price_and_keeps_the_order(page):  # noqa: F811
    client, account, _ = page
    order = new(account)
    response = client.post(
        reverse("orders:queue-edit", args=[order.pk]),
        {
            "account": account.pk,
            "symbol": "nse:infy",
            "side": "BUY",
            "quantity": 2,
            "order_type": "LIMIT",
            "product": "CNC",
            "price": "1500.03",
        },
        headers=HX,
    )
    body = response.content.decode()
    assert f'id="edit-{order.pk}"' in body
    assert "1500.03 is not a multiple of the tick size" in field_errors(body, "price")
    order.refresh_from_db()
    assert (order.symbol, order.order_type, order.price) == ("NSE:SBIN", "MARKET", None)
    assert not order.events.filter(kind="edited").exists()


# --- Validity and disclosed quantity by capability (item 10) -------------------------------


def test_validity_and_disclosed_quantity_follow_capabilities(page):  # noqa: F811
    client, account, peer = page
    caps = account.adapter_class.capabilities
    body = client.get(reverse("orders:queue")).content.decode()
    assert ('name="validity"' in body) == (Validity.IOC in caps.validities)
    assert ('name="disclosed_quantity"' in body) == caps.disclosed_quantity
    response = post_new(
        client,
        account,
        order_type="LIMIT",
        price="790",
        validity="IOC",
        disclosed_quantity=1,
        quantity=4,
    )
    assert response.status_code == 200
    order = Order.objects.get()
    assert order.validity == "IOC" and order.disclosed_quantity == 1
    order = execute(order=order, actor="alice")
    assert order.status == "SENT"
    assert peer.user.book.orders[order.broker_order_id].validity == "IOC"


def test_paper_offers_neither_ioc_nor_disclosed_quantity():
    from paper.adapter import PaperAdapter

    caps = PaperAdapter.capabilities
    assert caps.validities == frozenset({Validity.DAY}) and not caps.disclosed_quantity


def test_form_hides_validity_and_disclosed_quantity_where_not_offered(user):
    from types import SimpleNamespace

    from orders.forms import OrderForm
    from paper.adapter import PaperAdapter

    form = OrderForm(user=user)
    form.restrict_to(SimpleNamespace(adapter_class=PaperAdapter, broker_label="Paper trading"))
    assert "validity" not in form.fields and "disclosed_quantity" not in form.fields


def test_disclosed_quantity_above_the_quantity_is_refused(page):  # noqa: F811
    client, account, _ = page
    response = post_new(client, account, quantity=2, disclosed_quantity=5)
    assert response.status_code == 422
    assert "more than the quantity" in field_errors(response.content.decode(), "disclosed_quantity")


# --- Modify on the Orders page (item 10) -----------------------------------------------------


def open_limit(account, peer):
    peer.server.state.market.set_price("NSE", "INFY", "1500")
    return execute(
        order=new(account, "INFY", order_type="LIMIT", price=Decimal("1400")), actor="alice"
    )


def test_modify_changes_quantity_type_price_and_trigger(page):  # noqa: F811
    client, account, peer = page
    order = open_limit(account, peer)
    form = client.get(reverse("orders:order-modify", args=[order.pk]), headers=HX).content.decode()
    assert f'id="modify-{order.pk}-quantity"' in form and 'value="1400' in form  # prefilled
    response = client.post(
        reverse("orders:order-modify", args=[order.pk]),
        {"quantity": 4, "order_type": "SL", "price": "1395", "trigger_price": "1390"},
        headers=HX,
    )
    assert response.status_code == 200 and "modify sent to" in response.content.decode()
    remote = peer.user.book.orders[order.broker_order_id]
    assert (remote.quantity, remote.price, remote.trigger_price) == (
        4,
        Decimal("1395"),
        Decimal("1390"),
    )
    order.refresh_from_db()
    assert (order.quantity, order.order_type, order.price, order.trigger_price) == (
        4,
        "SL",
        Decimal("1395"),
        Decimal("1390"),
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"price": "1400.03"}, "price", "not a multiple of the tick size 0.05"),
        ({"price": "-5"}, "price", "must be above 0"),
        ({"price": "NaN"}, "price", "Enter a number"),
        ({"quantity": "0"}, "quantity", "greater than or equal to 1"),
        ({"order_type": "SL"}, "trigger_price", "needs a trigger price"),
    ],
)
def test_modify_errors_are_shown_in_place_and_nothing_is_sent(page, fields, field, message):  # noqa: F811
    client, account, peer = page
    order = open_limit(account, peer)
    data = {"quantity": 2, "order_type": "LIMIT", "price": "1410", **fields}
    response = client.post(reverse("orders:order-modify", args=[order.pk]), data, headers=HX)
    assert response.status_code == 422
    assert message in field_errors(response.content.decode(), field)
    assert peer.user.book.orders[order.broker_order_id].price == Decimal("1400")


def test_modify_form_is_not_served_bare_to_a_plain_navigation(page):  # noqa: F811
    client, account, peer = page
    order = open_limit(account, peer)
    response = client.get(reverse("orders:order-modify", args=[order.pk]))
    assert response.status_code == 302 and response.url == reverse("orders:orders")


def test_modify_without_htmx_redirects_with_the_outcome(page):  # noqa: F811
    client, account, peer = page
    order = open_limit(account, peer)
    response = client.post(
        reverse("orders:order-modify", args=[order.pk]),
        {"quantity": 2, "order_type": "LIMIT", "price": "1400.01"},
        follow=True,
    )
    assert "not a multiple of the tick size" in response.content.decode()
    assert peer.user.book.orders[order.broker_order_id].price == Decimal("1400")


# --- Partial exit from a position (item 10) --------------------------------------------------


def position_of(account, peer, quantity=6):
    from portfolio.models import Position
    from portfolio.sync import portfolio_sync_account

    execute(order=new(account, quantity=quantity, product="MIS"), actor="alice")
    portfolio_sync_account(account)
    Order.objects.all().delete()
    return Position.objects.get(account=account, symbol="SBIN", product="MIS")


def test_partial_exit_sells_part_of_the_position(page):  # noqa: F811
    client, account, peer = page
    position = position_of(account, peer)
    body = client.get(reverse("portfolio:positions") + f"?account={account.pk}").content.decode()
    assert 'name="quantity" value="6"' in body  # defaults to the whole position
    response = client.post(
        reverse("portfolio:square-off", args=[position.pk]),
        {"account": account.pk, "quantity": 2},
        headers=HX,
    )
    assert response.status_code == 200
    order = Order.objects.get()
    assert (order.side, order.quantity, order.status) == ("SELL", 2, "SENT")


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("7", "has 6 open: cannot exit 7"), ("0", "at least 1"), ("two", "not a whole number")],
)
def test_partial_exit_refuses_more_than_the_position(page, quantity, message):  # noqa: F811
    client, account, peer = page
    position = position_of(account, peer)
    response = client.post(
        reverse("portfolio:square-off", args=[position.pk]),
        {"account": account.pk, "quantity": quantity},
        headers=HX,
    )
    # Refused at the row's form (422, as every form error), the quantity as typed.
    assert response.status_code == 422
    form = response.content.decode().split('class="inline square-off"')[1].split("</form>")[0]
    assert message in form and f'value="{quantity}" aria-invalid="true"' in form
    assert not Order.objects.exists()


def test_partial_exit_in_whole_lots(trading):  # noqa: F811
    from portfolio.models import Position
    from portfolio.trading import TradeRefused, square_off

    account, _ = trading
    future = Instrument.objects.filter(
        broker=account.broker, exchange="NFO", instrument_type="FUT"
    ).first()
    position = Position.objects.create(
        account=account,
        instrument=future,
        symbol=future.canonical_symbol,
        broker_symbol=future.trading_symbol,
        exchange="NFO",
        product="NRML",
        quantity=future.lot_size * 2,
        average_price=Decimal("100"),
        last_price=Decimal("100"),
        pnl=Decimal("0"),
    )
    with pytest.raises(TradeRefused, match=f"whole lots of {future.lot_size}"):
        square_off(user=account.user, position=position, actor="alice", quantity=10)
    assert not Order.objects.exists()
