"""The paper engine (paper/engine.py): fill rules on a scripted price path,
slippage, partial fills, funds blocking, rejections, market hours, MIS square-off and
no double fill."""

import threading
from datetime import datetime

import pytest
from django.db import connections
from django.utils import timezone

from brokers.connections import adapter_for
from marketdata import refresh
from paper import engine
from paper.models import PaperBook, PaperOrder, PaperTrade
from paper.tasks import square_off_intraday as square_off_task
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account
from tests.paper.helpers import D, book_order, next_day, price, request


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


def test_an_order_marketable_as_it_arrives_fills_at_the_market_not_its_limit(paper):
    """A BUY LIMIT at 1,520 with the market at 1,500 takes the 1,500 on offer, as
    on an exchange; so does a stop whose limit order reaches the market the moment
    it triggers (a protective stop's limit is set beyond its trigger on purpose)."""
    account, market = paper
    adapter = adapter_for(account)
    price(market, "INFY", 1500)
    marketable = adapter.place_order(request("INFY", kind="LIMIT", price=D("1520"), quantity=2))
    order = book_order(adapter, marketable)
    assert order.status.value == "EXECUTED" and order.average_price == D("1500")
    stop = adapter.place_order(
        request("INFY", "SELL", kind="SL", price=D("1386"), trigger_price=D("1400"), tag="STOP")
    )
    assert book_order(adapter, stop).status.value == "TRIGGER_PENDING"
    price(market, "INFY", 1399)
    engine.check_resting_orders()
    order = book_order(adapter, stop)
    assert order.status.value == "EXECUTED" and order.average_price == D("1399")  # not 1,386


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
    # Days later the refused order has left the book; the one still resting has not.
    assert refused not in {o.broker_order_id for o in adapter.order_book()}
    assert book_order(adapter, resting).status.value == "OPEN"
    settings.MARKET_ALWAYS_OPEN = True  # the market opens
    engine.check_resting_orders()
    assert book_order(adapter, resting).status.value == "EXECUTED"


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
    assert engine.is_square_off_time(datetime(2026, 11, 25, 15, 21, tzinfo=ist))
    assert not engine.is_square_off_time(datetime(2026, 11, 25, 15, 10, tzinfo=ist))
    assert not engine.is_square_off_time(datetime(2026, 11, 22, 15, 21, tzinfo=ist))  # Sunday
    # Tuesday 24 Nov 2026, Guru Nanak Jayanti: an exchange holiday has no session.
    assert not engine.is_square_off_time(datetime(2026, 11, 24, 15, 21, tzinfo=ist))


def test_square_off_task_outside_its_window_does_nothing(paper, settings):
    settings.PAPER_MIS_SQUARE_OFF = "15:20"
    late = datetime(2026, 11, 24, 21, 0, tzinfo=timezone.get_current_timezone())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: late)
        assert square_off_task() == {"skipped": "not square-off time"}


@pytest.mark.django_db(transaction=True)
def test_two_checkers_at_once_fill_an_order_once(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    connected_account(emulator, user, "angelone", "live")
    refresh.refresh_instruments(broker="angelone")
    account = connected_paper_account(user)
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
    assert {p.instrument.symbol: p for p in adapter.positions()}["SBIN"].quantity == 12
    next_day(account)
    holding = {h.instrument.symbol: h for h in adapter.holdings()}["SBIN"]
    assert holding.quantity == 12 and holding.t1_quantity == 12
    book = PaperBook.objects.get(account=account)
    charges = sum(t.charges for t in PaperTrade.objects.all())
    assert book.cash == D("100000") - D("750") * 12 - charges
    assert book.blocked == 0
