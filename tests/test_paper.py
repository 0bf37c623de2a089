"""Paper trading: fill rules on a scripted price path, slippage and charges against
worked examples, funds blocking, rejections, MIS square-off, no fill without a
price, no double fill, reset, and a TradingView alert filling on paper."""

import json
import threading
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from brokers import accounts
from brokers import connections as broker_connections
from brokers.base import (
    BrokerUnavailable,
    InstrumentRef,
    OrderRequest,
    OrderType,
    Product,
    Side,
)
from brokers.connections import adapter_for
from marketdata import refresh
from marketdata.models import Candle
from orders.models import Order, Strategy
from orders.sync import order_sync_account
from orders.webhook import issue_token
from paper import engine
from paper.charges import charges_for
from paper.models import PaperBook, PaperOrder, PaperTrade
from paper.tasks import square_off_intraday as square_off_task
from sigmatrader.celery import app as celery_app
from tests.broker_peers import connected_account

D = Decimal


@pytest.fixture
def paper(emulator, user, settings):
    """A paper account with ₹1,00,000, priced by a connected AngelOne account."""
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    live, _ = connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    account = accounts.create_account(
        user=user,
        broker="paper",
        label="practice",
        credentials={"starting_cash": "100000", "price_source": "live"},
    )
    broker_connections.connect_with_credentials(account=account, per_connect={})
    account.refresh_from_db()
    return account, emulator.state.market


def price(market, symbol, value):
    market.set_price("NSE", symbol, str(value))


def request(symbol, side="BUY", quantity=1, kind="MARKET", product="CNC", **fields):
    return OrderRequest(
        instrument=InstrumentRef("NSE", symbol),
        side=Side(side),
        quantity=quantity,
        order_type=OrderType(kind),
        product=Product(product),
        tag=fields.pop("tag", f"T{symbol}{side}"),
        **fields,
    )


def book_order(adapter, order_id):
    return {o.broker_order_id: o for o in adapter.order_book()}[order_id]


# --- Fill rules --------------------------------------------------------------------------


def test_each_order_type_fills_by_its_rule_along_a_scripted_price_path(paper, settings):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "INFY", 1500)

    limit_buy = adapter.place_order(request("INFY", kind="LIMIT", price=D("1450"), quantity=2))
    sl_buy = adapter.place_order(
        request("INFY", kind="SL", price=D("1555"), trigger_price=D("1550"), tag="SLB")
    )
    slm_sell = adapter.place_order(
        request("INFY", "SELL", kind="SL-M", trigger_price=D("1400"), product="MIS", tag="SLM")
    )
    states = {}
    for step in ["1480", "1560", "1554", "1449", "1395"]:
        price(market, "INFY", step)
        engine.check_resting_orders()
        states[step] = {
            name: book_order(adapter, oid).status.value
            for name, oid in (("limit", limit_buy), ("sl", sl_buy), ("slm", slm_sell))
        }
    assert states["1480"] == {"limit": "OPEN", "sl": "TRIGGER_PENDING", "slm": "TRIGGER_PENDING"}
    # 1560 crosses the SL trigger (1550) but is above its limit (1555): triggered, not filled.
    assert states["1560"]["sl"] == "OPEN"
    assert states["1554"]["sl"] == "EXECUTED"
    assert states["1449"]["limit"] == "EXECUTED"
    assert states["1395"]["slm"] == "EXECUTED"
    fills = {oid: book_order(adapter, oid).average_price for oid in (limit_buy, sl_buy, slm_sell)}
    assert fills[limit_buy] == D("1450")  # the limit price, not the 1,449 LTP
    assert fills[sl_buy] == D("1555")  # acts as LIMIT once triggered
    assert fills[slm_sell] == D("1395")  # SL-M: LTP on trigger


def test_limit_sell_fills_when_the_market_reaches_it(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    adapter.place_order(request("SBIN", quantity=5))
    sell = adapter.place_order(request("SBIN", "SELL", kind="LIMIT", price=D("820"), quantity=5))
    price(market, "SBIN", 815)
    engine.check_resting_orders()
    assert book_order(adapter, sell).status.value == "OPEN"
    price(market, "SBIN", 825)
    engine.check_resting_orders()
    order = book_order(adapter, sell)
    assert order.status.value == "EXECUTED" and order.average_price == D("820")
    assert not adapter.holdings()


def test_market_slippage_moves_the_fill_against_the_trader(paper, settings):
    account, market = paper
    settings.PAPER_SLIPPAGE_BPS = 10
    adapter = adapter_for(account)
    price(market, "TCS", 1000)
    buy = adapter.place_order(request("TCS", quantity=4, product="MIS"))
    sell = adapter.place_order(request("TCS", "SELL", quantity=4, product="MIS", tag="S2"))
    assert book_order(adapter, buy).average_price == D("1001.00")
    assert book_order(adapter, sell).average_price == D("999.00")


def test_partial_fills_above_a_share_of_the_days_volume(paper, settings, monkeypatch):
    account, market = paper
    settings.PAPER_MAX_VOLUME_SHARE = 0.1
    adapter = adapter_for(account)
    price(market, "ITC", 400)
    real = engine.prices

    def with_volume(acct, refs):
        found, problem = real(acct, refs)
        return {r: engine.Price(p.last_price, p.close, 30, p.source) for r, p in found.items()}, ""

    monkeypatch.setattr(engine, "prices", with_volume)
    order_id = adapter.place_order(request("ITC", quantity=7))
    first = book_order(adapter, order_id)
    assert first.status.value == "PARTIALLY_FILLED" and first.filled_quantity == 3
    engine.check_resting_orders()
    engine.check_resting_orders()
    done = book_order(adapter, order_id)
    assert done.status.value == "EXECUTED" and done.filled_quantity == 7
    assert [t.quantity for t in adapter.trades()] == [3, 3, 1]


# --- Charges and funds -------------------------------------------------------------------


@pytest.mark.parametrize(
    "side,quantity,price_,product,expected",
    [
        # Delivery buy 100 x 1,500 = 1,50,000: STT 150.00, exchange 4.46, SEBI 0.15,
        # stamp 22.50, GST 18% of (0 + 4.46 + 0.15) = 0.83.
        (
            "BUY",
            100,
            "1500",
            "CNC",
            {"brokerage": "0.00", "stt": "150.00", "exchange": "4.46", "sebi": "0.15",
             "stamp": "22.50", "gst": "0.83", "total": "177.94"},
        ),
        # Intraday sell 100 x 1,500: brokerage capped at 20, STT 0.025% = 37.50,
        # no stamp on a sale, GST 18% of 24.61 = 4.43.
        (
            "SELL",
            100,
            "1500",
            "MIS",
            {"brokerage": "20.00", "stt": "37.50", "exchange": "4.46", "sebi": "0.15",
             "stamp": "0.00", "gst": "4.43", "total": "66.54"},
        ),
        # Intraday buy 10 x 100: brokerage 0.03% = 0.30 (under the cap), stamp 0.03.
        (
            "BUY",
            10,
            "100",
            "MIS",
            {"brokerage": "0.30", "stt": "0.00", "exchange": "0.03", "sebi": "0.00",
             "stamp": "0.03", "gst": "0.06", "total": "0.42"},
        ),
    ],
)  # fmt: skip
def test_charges_worked_examples(side, quantity, price_, product, expected):
    cost = charges_for(side=side, quantity=quantity, price=D(price_), product=product)
    assert cost.as_dict() == expected


def test_the_schedule_is_configurable(settings):
    settings.PAPER_CHARGES = {"intraday": {"brokerage_rate": "0", "brokerage_max": "0"}}
    cost = charges_for(side="SELL", quantity=100, price=D("1500"), product="MIS")
    assert cost.brokerage == 0 and cost.stt == D("37.50")


def test_cash_moves_by_value_and_charges_per_trade(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "WIPRO", 1000)
    order_id = adapter.place_order(request("WIPRO", quantity=10))
    trade = PaperTrade.objects.get(order__order_id=order_id)
    # 10 x 1,000 delivery: STT 10.00 + exchange 0.30 + SEBI 0.01 + stamp 1.50 + GST 0.06
    assert trade.charges == D("11.87") and trade.charges_breakdown["stt"] == "10.00"
    funds = adapter.funds()
    assert funds.available_cash == D("100000") - D("10000") - D("11.87")
    assert funds.used_margin == 0


def test_funds_block_on_a_resting_order_and_come_back_on_cancel(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "INFY", 1000)
    order_id = adapter.place_order(request("INFY", kind="LIMIT", price=D("900"), quantity=10))
    # 9,000 + its charges (STT 9.00, exchange 0.27, SEBI 0.01, stamp 1.35, GST 0.05)
    blocked = D("9010.68")
    funds = adapter.funds()
    assert funds.used_margin == blocked and funds.available_cash == D("100000") - blocked
    adapter.cancel_order(order_id, variety="REGULAR")
    funds = adapter.funds()
    assert funds.used_margin == 0 and funds.available_cash == D("100000")
    assert book_order(adapter, order_id).status.value == "CANCELLED"


def test_rejections_say_why(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "TCS", 4000)
    too_big = adapter.place_order(request("TCS", quantity=30, tag="BIG"))
    order = book_order(adapter, too_big)
    assert order.status.value == "REJECTED"
    assert order.status_message.startswith("Insufficient funds: this order needs ₹1,20,")
    assert "available ₹1,00,000.00" in order.status_message
    naked = adapter.place_order(request("TCS", "SELL", quantity=1, tag="NAKED"))
    assert "Insufficient holdings: 0 TCS free to sell" in book_order(adapter, naked).status_message
    short = adapter.place_order(request("TCS", "SELL", quantity=1, product="MIS", tag="SHORT"))
    assert book_order(adapter, short).status.value == "EXECUTED"  # intraday may go short
    assert adapter.funds().available_cash > D("100000") - D("100")  # only charges spent


def test_outside_market_hours_orders_rest_or_are_rejected_per_setting(paper, settings):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    settings.MARKET_ALWAYS_OPEN = False
    closed = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.get_current_timezone())  # Saturday
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: closed)
        settings.PAPER_WHEN_CLOSED = "reject"
        refused = adapter.place_order(request("SBIN", tag="CLOSED1"))
        settings.PAPER_WHEN_CLOSED = "queue"
        resting = adapter.place_order(request("SBIN", tag="CLOSED2"))
        assert engine.check_resting_orders() == {"skipped": "market closed"}
    assert "Market closed" in book_order(adapter, refused).status_message
    assert book_order(adapter, resting).status.value == "OPEN"
    settings.MARKET_ALWAYS_OPEN = True  # the market opens
    engine.check_resting_orders()
    assert book_order(adapter, resting).status.value == "EXECUTED"


# --- Square-off, prices, concurrency, reset ------------------------------------------------


def test_intraday_positions_square_off(paper, settings):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "ITC", 400)
    adapter.place_order(request("ITC", quantity=5, product="MIS"))
    resting = adapter.place_order(
        request("ITC", kind="LIMIT", price=D("300"), quantity=1, product="MIS", tag="REST")
    )
    adapter.place_order(request("SBIN", quantity=2, product="CNC", tag="KEEP"))
    book = PaperBook.objects.get(account=account)
    price(market, "ITC", 410)
    assert engine.square_off_intraday(book) == 1
    positions = {(p.instrument.symbol, p.product.value): p for p in adapter.positions()}
    assert positions[("ITC", "MIS")].quantity == 0
    assert positions[("ITC", "MIS")].pnl > 0  # bought 400, squared off at 410
    assert positions[("SBIN", "CNC")].quantity == 2  # delivery is left alone
    assert book_order(adapter, resting).status.value == "CANCELLED"
    squared = PaperOrder.objects.get(book=book, tag="SQUAREOFF")
    assert (squared.side, squared.quantity, squared.status) == ("SELL", 5, "COMPLETE")
    settings.PAPER_MIS_SQUARE_OFF = "15:20"
    ist = timezone.get_current_timezone()
    assert engine.is_square_off_time(datetime(2026, 11, 24, 15, 21, tzinfo=ist))
    assert not engine.is_square_off_time(datetime(2026, 11, 24, 15, 10, tzinfo=ist))
    assert not engine.is_square_off_time(datetime(2026, 11, 22, 15, 21, tzinfo=ist))  # Sunday


def test_square_off_task_outside_its_window_does_nothing(paper, settings):
    settings.PAPER_MIS_SQUARE_OFF = "15:20"
    late = datetime(2026, 11, 24, 21, 0, tzinfo=timezone.get_current_timezone())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: late)
        assert square_off_task() == {"skipped": "not square-off time"}


def test_no_fill_without_a_price_then_the_candle_store_prices_it(paper, settings):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "INFY", 1500)
    resting = adapter.place_order(request("INFY", kind="LIMIT", price=D("1600"), tag="R1"))
    assert book_order(adapter, resting).status.value == "EXECUTED"  # 1500 <= 1600
    waiting = adapter.place_order(request("INFY", kind="LIMIT", price=D("1400"), tag="R2"))
    settings.SMARTAPI_API_ROOT = "http://127.0.0.1:9"  # the price source is down
    with pytest.raises(BrokerUnavailable, match="No price for NSE:INFY"):
        adapter.place_order(request("INFY", tag="M1"))
    assert engine.check_resting_orders()["unpriced"] == 1
    assert book_order(adapter, waiting).status.value == "OPEN"
    assert not PaperOrder.objects.filter(tag="M1").exists()  # nothing half-written
    Candle.objects.create(
        exchange="NSE",
        canonical_symbol="INFY",
        interval="1d",
        at=timezone.now(),
        open=1390,
        high=1400,
        low=1380,
        close=D("1390"),
        volume=0,
    )
    filled = adapter.place_order(request("INFY", tag="M2"))
    assert book_order(adapter, filled).average_price == D("1390")
    engine.check_resting_orders()
    assert book_order(adapter, waiting).status.value == "EXECUTED"


@pytest.mark.django_db(transaction=True)
def test_two_checkers_at_once_fill_an_order_once(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    account = accounts.create_account(
        user=user,
        broker="paper",
        label="practice",
        credentials={"starting_cash": "100000", "price_source": "live"},
    )
    broker_connections.connect_with_credentials(account=account, per_connect={})
    account.refresh_from_db()
    adapter = adapter_for(account)
    price(emulator.state.market, "SBIN", 800)
    order_ids = [
        adapter.place_order(request("SBIN", kind="LIMIT", price=D("750"), quantity=3, tag=f"C{i}"))
        for i in range(4)
    ]
    price(emulator.state.market, "SBIN", 740)
    barrier, results = threading.Barrier(3), []

    def check():
        try:
            barrier.wait()
            results.append(engine.check_resting_orders())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r["filled"] for r in results) == 4
    assert PaperTrade.objects.count() == 4
    for order_id in order_ids:
        assert PaperOrder.objects.get(order_id=order_id).filled_quantity == 3
    holding = {h.instrument.symbol: h for h in adapter.holdings()}["SBIN"]
    assert holding.quantity == 12
    book = PaperBook.objects.get(account=account)
    charges = sum(t.charges for t in PaperTrade.objects.all())
    assert book.cash == D("100000") - D("750") * 12 - charges
    assert book.blocked == 0


def test_reset_from_settings_with_confirmation(client, paper, other_user):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    adapter.place_order(request("SBIN", quantity=10))
    client.force_login(other_user)
    assert client.post(reverse("brokers:reset", args=[account.pk])).status_code == 404
    client.force_login(account.user)
    settings_page = client.get(reverse("settings")).content.decode()
    assert reverse("brokers:reset", args=[account.pk]) in settings_page
    assert (
        "Reset Paper trading · practice?"
        in client.get(reverse("brokers:reset", args=[account.pk])).content.decode()
    )
    response = client.post(reverse("brokers:reset", args=[account.pk]), follow=True)
    assert "was reset to its starting cash" in response.content.decode()
    assert adapter.funds().available_cash == D("100000")
    assert adapter.holdings() == [] and adapter.order_book() == []


def test_adding_a_paper_account_makes_it_ready_at_once(
    client, paper, django_capture_on_commit_callbacks
):
    account, _ = paper
    client.force_login(account.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("brokers:add") + "?broker=paper",
            {
                "broker": "paper",
                "label": "second",
                "starting_cash": "250000",
                "price_source": "live",
            },
        )
    assert response.status_code == 302
    page = client.get(reverse("settings")).content.decode()
    assert "Paper trading · second is ready." in page
    assert "Paper trading instruments: loading…" in page  # queued on connect
    second = account.user.broker_accounts.get(label="second")
    assert second.is_connected
    assert adapter_for(second).funds().available_cash == D("250000")


# --- The whole app on paper ------------------------------------------------------------------


def test_a_strategy_bound_to_a_paper_account_fills_from_a_webhook_alert(
    client, paper, django_capture_on_commit_callbacks
):
    account, market = paper
    price(market, "SBIN", 800)
    refresh.refresh_instruments(broker="paper")
    Strategy.objects.create(user=account.user, name="Paper run", account=account, mode="AUTO")
    token = issue_token(account.user)
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("tradingview-webhook", args=[token]),
                data=json.dumps(
                    {
                        "strategy_name": "Paper run",
                        "symbol": "NSE:SBIN",
                        "alert_id": "paper-1",
                        "trade_details": {"order_action": "buy", "quantity": "5"},
                    }
                ),
                content_type="text/plain",
            )
    finally:
        celery_app.conf.task_always_eager = False
    assert response.status_code == 202, response.content
    order = Order.objects.get()
    assert order.account == account and order.status in ("SENT", "OPEN", "EXECUTED")
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED" and order.filled_quantity == 5
    assert order.average_price == D("800")
    holding = {h.instrument.symbol: h for h in adapter_for(account).holdings()}["SBIN"]
    assert holding.quantity == 5


def test_charges_show_with_the_order_and_previews_are_computed(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "WIPRO", 1000)
    order_id = adapter.place_order(request("WIPRO", quantity=10))
    message = book_order(adapter, order_id).status_message
    assert message.startswith("Filled 10 of 10 at ₹1,000.00 avg; charges ₹11.87")
    assert "STT ₹10.00" in message
    preview = adapter.charges_preview([request("WIPRO", quantity=10)])
    assert preview.total == D("11.87") and preview.breakdown["stt"] == D("10.00")
    margin = adapter.margin_preview([request("WIPRO", kind="LIMIT", price=D("990"), quantity=10)])
    assert margin.total == D("9900") and margin.charges > 0


def test_a_managed_gtt_on_paper_triggers_and_fills(paper):
    from orders.conditional import check_conditional_orders
    from orders.execution import create_order, execute

    account, market = paper
    refresh.refresh_instruments(broker="paper")
    assert not account.adapter_class.capabilities.gtt  # managed by the app
    price(market, "SBIN", 800)
    order = create_order(
        user=account.user,
        account=account,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=3,
        order_type="MARKET",
        actor="alice",
        is_gtt=True,
    )
    Order.objects.filter(pk=order.pk).update(condition="ltp_lte", trigger_value=D("780"))
    order.refresh_from_db()
    assert execute(order=order, actor="alice").status == "ARMED"
    assert check_conditional_orders()["triggered"] == 0
    price(market, "SBIN", 779)
    assert check_conditional_orders()["triggered"] == 1
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED" and order.average_price == D("779")


def test_the_paper_form_checks_cash_and_the_price_source(client, paper):
    account, _ = paper
    client.force_login(account.user)
    response = client.post(
        reverse("brokers:add") + "?broker=paper",
        {"broker": "paper", "label": "bad", "starting_cash": "-5", "price_source": "nosuch"},
    )
    page = response.content.decode()
    assert "Starting cash must be more than 0." in page
    assert "Select a valid choice" in page
    # Another paper account is not a price source either.
    response = client.post(
        reverse("brokers:add") + "?broker=paper",
        {"broker": "paper", "label": "bad", "starting_cash": "1000", "price_source": "practice"},
    )
    assert "Select a valid choice" in response.content.decode()
    assert not account.user.broker_accounts.filter(label="bad").exists()


def test_the_price_source_is_a_choice_of_the_users_live_accounts(client, paper):
    """Issue 12 item 13: a select of the user's live accounts, not a free-text label."""
    account, _ = paper
    client.force_login(account.user)
    page = client.get(reverse("brokers:add") + "?broker=paper").content.decode()
    select = page[
        page.index('name="price_source"') : page.index(
            "</select>", page.index('name="price_source"')
        )
    ]
    live = account.user.broker_accounts.exclude(broker="paper")
    assert live.exists()
    for other in live:
        assert f'value="{other.label}"' in select
    assert f'value="{account.label}"' not in select  # paper is no price source
