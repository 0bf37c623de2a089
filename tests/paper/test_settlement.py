"""Paper behaves like the real brokers across days: today's delivery buys are
positions only and settle into holdings (as T1) on the next trading day, a sale out
of older holdings leaves them then; the order book is the day's orders plus those
still resting."""

from decimal import Decimal

from brokers.connections import adapter_for
from marketdata import refresh
from orders import risk
from orders.execution import create_order, execute
from orders.models import Order, RiskPolicy
from orders.sync import order_sync_account
from paper import engine
from tests.paper.helpers import D, book_order, next_day, price, request


def held(adapter, symbol):
    holdings = {h.instrument.symbol: h for h in adapter.holdings()}
    positions = {p.instrument.symbol: p for p in adapter.positions()}
    return holdings.get(symbol), positions.get(symbol)


def test_a_delivery_buy_is_a_position_today_and_a_t1_holding_the_next_day(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    adapter.place_order(request("SBIN", quantity=5))
    holding, position = held(adapter, "SBIN")
    assert holding is None  # not counted twice
    assert position.quantity == 5
    next_day(account)
    holding, position = held(adapter, "SBIN")
    assert position is None
    assert holding.quantity == 5 and holding.t1_quantity == 5
    assert holding.average_price == D("800")
    next_day(account, days=3)  # delivered
    holding, _ = held(adapter, "SBIN")
    assert holding.quantity == 5 and holding.t1_quantity == 0


def test_a_sale_out_of_older_holdings_leaves_them_when_it_settles(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    adapter.place_order(request("SBIN", quantity=5))
    next_day(account)
    price(market, "SBIN", 820)
    adapter.place_order(request("SBIN", quantity=2, tag="BUY2"))  # today: 800 and 820 lots
    sold = adapter.place_order(request("SBIN", side="SELL", quantity=4, tag="SELL4"))
    assert book_order(adapter, sold).status.value == "EXECUTED"
    holding, position = held(adapter, "SBIN")
    assert holding.quantity == 5 and position.quantity == -2  # 5 held, net -2 today: 3
    too_many = adapter.place_order(request("SBIN", side="SELL", quantity=4, tag="SELL4B"))
    assert book_order(adapter, too_many).status.value == "REJECTED"
    assert "3 SBIN free to sell" in book_order(adapter, too_many).status_message
    next_day(account)
    holding, position = held(adapter, "SBIN")
    assert position is None and holding.quantity == 3 and holding.average_price == D("800")
    assert holding.t1_quantity == 0


def test_the_risk_check_counts_todays_delivery_buy_once(paper):
    account, market = paper
    refresh.refresh_instruments(broker="paper")
    price(market, "SBIN", 800)
    RiskPolicy.objects.create(user=account.user)  # short selling not allowed
    bought = create_order(
        user=account.user, account=account, symbol="NSE:SBIN", side="BUY", quantity=5, actor="a"
    )
    assert execute(order=bought, actor="a").status == "SENT"
    sell = create_order(
        user=account.user, account=account, symbol="NSE:SBIN", side="SELL", quantity=8, actor="a"
    )
    decision = risk.evaluate(sell)
    assert not decision.allowed and "5 held" in decision.summary


def test_the_order_book_is_todays_orders_and_those_still_resting(paper):
    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    filled = adapter.place_order(request("SBIN", tag="OLDFILL"))
    resting = adapter.place_order(request("SBIN", kind="LIMIT", price=D("700"), tag="REST"))
    filling = adapter.place_order(request("SBIN", kind="LIMIT", price=D("750"), tag="LATER"))
    next_day(account)
    book = {o.broker_order_id: o for o in adapter.order_book()}
    assert filled not in book  # an earlier day's finished order: gone, as at a broker
    assert {resting, filling} <= set(book)
    price(market, "SBIN", 740)
    engine.check_resting_orders()
    book = {o.broker_order_id: o for o in adapter.order_book()}
    assert book[filling].status.value == "EXECUTED"  # finished today: still shown today
    assert book[resting].status.value == "OPEN"
    today = adapter.place_order(request("SBIN", tag="TODAY"))
    assert today in {o.broker_order_id for o in adapter.order_book()}


def test_an_app_order_resting_from_an_earlier_day_is_followed_by_the_sync(paper):
    account, market = paper
    refresh.refresh_instruments(broker="paper")
    price(market, "SBIN", 800)
    order = create_order(
        user=account.user,
        account=account,
        symbol="NSE:SBIN",
        side="BUY",
        quantity=2,
        order_type="LIMIT",
        price=Decimal("750"),
        actor="a",
    )
    assert execute(order=order, actor="a").status == "SENT"
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "OPEN"
    next_day(account)
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "OPEN"  # still resting: still in the book, not lost
    price(market, "SBIN", 745)
    engine.check_resting_orders()
    order_sync_account(account)
    order.refresh_from_db()
    assert order.status == "EXECUTED" and order.average_price == D("750")
    assert not Order.objects.filter(pk=order.pk, status="FAILED").exists()


def test_a_buy_before_an_exchange_holiday_stays_t1_through_the_holiday(paper, monkeypatch):
    """Bought Monday 2 Mar 2026; Tuesday 3 Mar was Holi (no settlement), so on
    Wednesday the shares are still T1, as at the broker; Thursday they are delivered."""
    from datetime import date

    from paper.models import PaperHolding

    account, market = paper
    adapter = adapter_for(account)
    price(market, "SBIN", 800)
    adapter.place_order(request("SBIN", quantity=5))
    next_day(account)
    held(adapter, "SBIN")  # settles the buy into a T1 holding
    PaperHolding.objects.filter(book__account=account).update(t1_date=date(2026, 3, 2))
    monkeypatch.setattr(engine, "today", lambda: date(2026, 3, 4))
    holding, _ = held(adapter, "SBIN")
    assert holding.t1_quantity == 5
    monkeypatch.setattr(engine, "today", lambda: date(2026, 3, 5))
    holding, _ = held(adapter, "SBIN")
    assert holding.t1_quantity == 0
