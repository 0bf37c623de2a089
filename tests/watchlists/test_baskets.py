"""Baskets against the emulator: preview, buy into the queue as one batch or now through
the execution service (risk checks included), legs rejected, two accounts, sell, P&L."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from marketdata import refresh
from orders.models import Order, RiskPolicy
from orders.sync import order_sync_account
from portfolio.live import refresh_live_quotes
from portfolio.sync import portfolio_sync_account
from tests.brokers.peers import connected_account
from tests.brokers.peers.paper import connected_paper_account
from tests.portfolio.helpers import seed
from watchlists import baskets
from watchlists.models import BasketRun, Member, Watchlist

D = Decimal
HX = {"HX-Request": "true"}


@pytest.fixture
def market(emulator, user, settings):
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    zerodha, kite = connected_account(emulator, user, "zerodha", "z")
    angel, smart = connected_account(emulator, user, "angelone", "a")
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    prices = emulator.state.market
    for symbol, price in (("SBIN", "800"), ("INFY", "1500"), ("TCS", "4000")):
        prices.set_price("NSE", symbol, price)
    return {"zerodha": zerodha, "angelone": angel, "kite": kite, "smart": smart, "emu": emulator}


def plan_of(html: str) -> str:
    """The signed plan a confirmation step carries (what its confirm sends)."""
    return re.search(r'name="plan" value="([^"]+)"', html).group(1)


def basket(user, *symbols, **fields):
    watchlist = Watchlist.objects.create(user=user, name="Core", kind="BASKET", **fields)
    for n, symbol in enumerate(symbols):
        Member.objects.create(watchlist=watchlist, exchange="NSE", symbol=symbol, position=n)
    return watchlist


def test_preview_allocates_at_live_prices_without_creating_anything(market, user):
    watchlist = basket(user, "SBIN", "INFY", "TCS")
    plan = baskets.preview(
        watchlist=watchlist, account=market["angelone"], funds=D("30000"), mode="EQUAL"
    )
    got = {leg.member.symbol: (leg.price, leg.quantity) for leg in plan.legs}
    # 10,000 each: 12 SBIN, 6 INFY, 2 TCS = 26,600; of the 3,400 left, one more INFY and
    # one more SBIN (most under target that fit), then one more SBIN: 300 left.
    assert got == {
        "SBIN": (D("800"), 14),
        "INFY": (D("1500"), 7),
        "TCS": (D("4000"), 2),
    }
    assert (plan.spent, plan.leftover) == (D("29700"), D("300"))
    assert all(leg.quantity >= 1 for leg in plan.legs)
    assert not Order.objects.exists()


@pytest.mark.parametrize("broker", ["zerodha", "angelone", "paper"])
def test_buy_into_the_queue_as_one_batch_then_execute(market, user, broker):
    if broker == "paper":
        account = connected_paper_account(user, price_source="a", load_instruments=True)
    else:
        account = market[broker]
    watchlist = basket(user, "SBIN", "INFY")
    run = baskets.buy(
        user=user,
        watchlist=watchlist,
        account=account,
        funds=D("10000"),
        mode="EQUAL",
        terms=baskets.Terms(buffer_pct=D("0.5")),
        actor="alice",
    )
    orders = list(run.orders.order_by("symbol"))
    assert [(o.symbol, o.side, o.status, o.order_type) for o in orders] == [
        ("NSE:INFY", "BUY", "WAITING", "LIMIT"),
        ("NSE:SBIN", "BUY", "WAITING", "LIMIT"),
    ]
    sbin = orders[1]
    assert sbin.price == D("804.00")  # 800 + 0.5%, on the tick
    assert sum(o.quantity * o.price for o in orders) <= D("10000") * D("1.005")
    from orders import bulk

    outcome = bulk.run(user=user, action="execute", order_ids=[o.pk for o in orders], actor="t")
    assert outcome.count(bulk.SENT) == 2, outcome.summary


def test_execute_now_goes_through_risk_checks_and_reports_the_failed_leg(market, user, client):
    RiskPolicy.objects.create(user=user, max_order_value=D("5000"))
    watchlist = basket(user, "SBIN", "TCS")
    watchlist.members.filter(symbol="TCS").update(locked=True, quantity=2)  # 8,000: over 5,000
    client.force_login(user)
    form = {
        "account": market["zerodha"].pk,
        "action": "now",
        "funds": "12000",
        "mode": "EQUAL",
        "product": "CNC",
        "order_type": "LIMIT",
        "buffer_pct": "0.5",
    }
    url = reverse("watchlists:basket", args=[watchlist.pk])
    # "Buy now" asks first, naming the account, the number of orders and their value.
    asked = client.post(url, form, headers=HX).content.decode()
    assert not Order.objects.exists()
    assert 'id="basket-confirm-now"' in asked
    # Sized at the limit prices: TCS 2 × 4,020 (locked) + SBIN 4 × 804.
    assert "Send 2 orders worth ₹11,256.00 to Zerodha · z now?" in asked
    response = client.post(
        url, {**form, "action": "now_confirm", "plan": plan_of(asked)}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 200
    run = BasketRun.objects.get()
    by_symbol = {o.symbol: o for o in run.orders.all()}
    assert by_symbol["NSE:TCS"].status == Order.Status.FAILED
    assert by_symbol["NSE:SBIN"].status in (Order.Status.EXECUTED, Order.Status.SENT)
    assert "2 orders sent now" in html
    assert "NSE:TCS:" in html  # the failed leg, with its reason, in the batch status
    assert by_symbol["NSE:TCS"].status_message in html


def test_the_same_basket_into_two_accounts_and_its_pnl(market, user):
    watchlist = basket(user, "SBIN")
    for key in ("zerodha", "angelone"):
        run = baskets.buy(
            user=user,
            watchlist=watchlist,
            account=market[key],
            funds=D("8100"),
            mode="EQUAL",
            terms=baskets.Terms(order_type="MARKET", send_now=True),
            actor="alice",
        )
        assert run.orders.get().quantity == 10
    for key in ("zerodha", "angelone"):
        order_sync_account(market[key])
    market["emu"].state.market.set_price("NSE", "SBIN", "820")
    for key in ("zerodha", "angelone"):
        portfolio_sync_account(market[key])  # holds SBIN now: the beat quotes it
    refresh_live_quotes()
    rows = {row.account_name: row for row in baskets.pnl(watchlist=watchlist)}
    assert len(rows) == 2
    for row in rows.values():
        assert (row.invested, row.value, row.pnl) == (D("8000"), D("8200"), D("200"))


def _bought(watchlist, account, *fills):
    """A buy run of the basket in `account` with these (instrument, filled) orders."""
    run = BasketRun.objects.create(
        watchlist=watchlist, account=account, account_name=account.display_name, side="BUY"
    )
    run.orders.set(
        Order.objects.create(
            user=watchlist.user,
            account=account,
            account_name=account.display_name,
            instrument=instrument,
            symbol=f"NSE:{instrument.canonical_symbol}",
            exchange="NSE",
            side="BUY",
            quantity=filled,
            filled_quantity=filled,
            status="EXECUTED",
        )
        for instrument, filled in fills
    )
    return run


def _instrument(symbol):
    from marketdata.models import Instrument

    return Instrument.objects.get(broker="zerodha", exchange="NSE", trading_symbol=symbol)


def test_sell_basket_sells_what_the_basket_bought_never_older_holdings(market, user):
    # The account held INFY 12 and SBIN 40 before; the basket bought SBIN 5 (and INFY 3,
    # of which 1 was sold since): the sell takes SBIN 5 and INFY 2, nothing older.
    seed(market["kite"], holdings=[("SBIN", 45, "700"), ("INFY", 14, "1400"), ("ITC", 5, "400")])
    portfolio_sync_account(market["zerodha"])
    watchlist = basket(user, "SBIN", "INFY", "TCS")
    account = market["zerodha"]
    _bought(watchlist, account, (_instrument("SBIN"), 5), (_instrument("INFY"), 3))
    sold = BasketRun.objects.create(
        watchlist=watchlist, account=account, account_name="z", side="SELL"
    )
    sold.orders.add(
        Order.objects.create(
            user=user,
            account=account,
            account_name="z",
            instrument=_instrument("INFY"),
            symbol="NSE:INFY",
            side="SELL",
            quantity=1,
            filled_quantity=1,
            status="EXECUTED",
        )
    )
    legs = baskets.basket_to_sell(watchlist=watchlist, account=account)
    assert sorted((i.canonical_symbol, q) for i, q in legs) == [("INFY", 2), ("SBIN", 5)]
    run = baskets.sell(
        user=user,
        watchlist=watchlist,
        account=account,
        terms=baskets.Terms(order_type="MARKET"),
        actor="alice",
    )
    got = sorted((o.symbol, o.side, o.quantity) for o in run.orders.all())
    assert got == [("NSE:INFY", "SELL", 2), ("NSE:SBIN", "SELL", 5)]
    # Those sells are working now: a second sell finds nothing left to sell, and says why.
    with pytest.raises(baskets.BasketRefused, match=r"sells in .* \(2 orders\) are still waiting"):
        baskets.sell(
            user=user, watchlist=watchlist, account=account, terms=baskets.Terms(), actor="a"
        )


def test_sell_basket_never_sells_more_than_the_account_holds(market, user):
    seed(market["kite"], holdings=[("SBIN", 2, "700")])  # sold 8 elsewhere since
    portfolio_sync_account(market["zerodha"])
    watchlist = basket(user, "SBIN")
    _bought(watchlist, market["zerodha"], (_instrument("SBIN"), 10))
    legs = baskets.basket_to_sell(watchlist=watchlist, account=market["zerodha"])
    assert [(i.canonical_symbol, q) for i, q in legs] == [("SBIN", 2)]


def test_sell_basket_previews_the_legs_then_sells_on_confirm(market, user, client):
    seed(market["kite"], holdings=[("SBIN", 40, "700"), ("INFY", 12, "1400")])
    portfolio_sync_account(market["zerodha"])
    watchlist = basket(user, "SBIN", "INFY")
    client.force_login(user)
    url = reverse("watchlists:basket", args=[watchlist.pk])
    form = {"account": market["zerodha"].pk, "product": "CNC", "order_type": "MARKET"}
    form["buffer_pct"] = "0.5"
    html = client.post(url, {**form, "action": "sell"}, headers=HX).content.decode()
    assert "bought nothing in" in html and not Order.objects.exists()
    _bought(watchlist, market["zerodha"], (_instrument("SBIN"), 4))
    html = client.post(url, {**form, "action": "sell"}, headers=HX).content.decode()
    assert 'id="basket-sell-preview"' in html and 'data-testid="sell-qty">4<' in html
    assert "INFY" not in html.split('id="basket-sell-preview"')[1].split("</table>")[0]
    assert not Order.objects.filter(side="SELL").exists()  # a preview only
    client.post(url, {**form, "action": "sell_confirm", "plan": plan_of(html)}, headers=HX)
    assert list(Order.objects.filter(side="SELL").values_list("symbol", "quantity")) == [
        ("NSE:SBIN", 4)
    ]


def test_the_list_sell_link_offers_what_the_account_holds(market, user, client):
    seed(market["kite"], holdings=[("SBIN", 7, "700"), ("ITC", 5, "400")])
    portfolio_sync_account(market["zerodha"])
    watchlist = basket(user, "SBIN", "INFY")  # INFY not held; ITC held but not a member
    client.force_login(user)
    html = client.get(
        reverse("watchlists:detail", args=[watchlist.pk]), {"account": market["zerodha"].pk}
    ).content.decode()
    assert "symbol=NSE%3ASBIN&amp;side=SELL&amp;quantity=7" in html
    assert "symbol=NSE%3AINFY&amp;side=SELL&amp;quantity" not in html
    with pytest.raises(baskets.BasketRefused, match="bought nothing in"):
        baskets.sell(
            user=user,
            watchlist=_other(user),
            account=market["zerodha"],
            terms=baskets.Terms(),
            actor="alice",
        )


def _other(user):
    watchlist = Watchlist.objects.create(user=user, name="Other", kind="BASKET")
    Member.objects.create(watchlist=watchlist, exchange="NSE", symbol="TCS")
    return watchlist


def test_closed_market_offers_amo_and_refuses_execute_now(market, user, settings):
    settings.MARKET_ALWAYS_OPEN = False
    settings.MARKET_CLOCK = "always-closed"
    watchlist = basket(user, "SBIN")
    with pytest.raises(baskets.BasketRefused, match="market is closed.*AMO"):
        baskets.buy(
            user=user,
            watchlist=watchlist,
            account=market["zerodha"],
            funds=D("5000"),
            mode="EQUAL",
            terms=baskets.Terms(send_now=True),
            actor="alice",
        )
    assert not Order.objects.exists()
    run = baskets.buy(
        user=user,
        watchlist=watchlist,
        account=market["zerodha"],
        funds=D("5000"),
        mode="EQUAL",
        terms=baskets.Terms(amo=True),
        actor="alice",
    )
    assert run.orders.get().variety == Order.Variety.AMO


def test_an_invalid_leg_creates_no_order_at_all(market, user):
    watchlist = basket(user, "SBIN", "INFY")
    with pytest.raises(baskets.BasketRefused, match="buffer"):
        baskets.buy(
            user=user,
            watchlist=watchlist,
            account=market["zerodha"],
            funds=D("5000"),
            mode="EQUAL",
            terms=baskets.Terms(buffer_pct=D("9")),
            actor="alice",
        )
    assert not Order.objects.exists() and not BasketRun.objects.exists()


def test_freeze_then_drift(market, user):
    watchlist = basket(user, "SBIN")
    assert baskets.freeze_prices(watchlist=watchlist, account=market["zerodha"]) == 1
    market["emu"].state.market.set_price("NSE", "SBIN", "880")
    from django.core.cache import cache

    cache.clear()
    plan = baskets.preview(
        watchlist=watchlist, account=market["zerodha"], funds=D("5000"), mode="EQUAL"
    )
    assert plan.legs[0].drift_pct == D("10.00")


def test_limit_price_rounding():
    assert baskets.limit_price(D("100"), side="BUY", buffer_pct=D("0.33"), tick=D("0.05")) == D(
        "100.30"
    )
    assert baskets.limit_price(D("100"), side="SELL", buffer_pct=D("0.33"), tick=D("0.05")) == D(
        "99.70"
    )


def test_the_same_form_sent_twice_places_one_batch(market, user, client):
    watchlist = basket(user, "SBIN", "INFY")
    client.force_login(user)
    form = {
        "account": market["zerodha"].pk,
        "action": "now_confirm",
        "funds": "10000",
        "mode": "EQUAL",
        "product": "CNC",
        "order_type": "LIMIT",
        "buffer_pct": "0.5",
        "request_key": "3f2a9c",
    }
    url = reverse("watchlists:basket", args=[watchlist.pk])
    asked = client.post(url, {**form, "action": "now"}, headers=HX).content.decode()
    form["plan"] = plan_of(asked)
    assert client.post(url, form, headers=HX).status_code == 200
    second = client.post(url, form, headers=HX)
    assert second.status_code == 422
    assert "already placed (the form was sent twice)" in second.content.decode()
    assert BasketRun.objects.count() == 1 and Order.objects.count() == 2
    # A fresh form (a new key) is a new, deliberate order.
    assert client.post(url, {**form, "request_key": "77b1"}, headers=HX).status_code == 200
    assert BasketRun.objects.count() == 2 and Order.objects.count() == 4


def test_more_than_two_hundred_legs_are_refused_before_anything_is_created(market, user):
    from marketdata.models import Instrument
    from portfolio.models import Holding

    account = market["zerodha"]
    instruments = list(
        Instrument.objects.filter(broker="zerodha", exchange="NSE", instrument_type="EQ")[:201]
    )
    watchlist = basket(user, *[i.canonical_symbol for i in instruments])
    Holding.objects.bulk_create(
        Holding(
            account=account,
            instrument=i,
            exchange="NSE",
            broker_symbol=i.trading_symbol,
            symbol=i.canonical_symbol,
            quantity=1,
            average_price=D("10"),
            last_price=D("10"),
            pnl=D("0"),
        )
        for i in instruments
    )
    _bought(watchlist, account, *[(i, 1) for i in instruments])
    with pytest.raises(baskets.BasketRefused, match="At most 200 orders"):
        baskets.sell(
            user=user,
            watchlist=watchlist,
            account=account,
            terms=baskets.Terms(order_type="MARKET", send_now=True),
            actor="alice",
        )
    assert not Order.objects.filter(side="SELL").exists()
    assert not BasketRun.objects.filter(side="SELL").exists()


def test_charges_estimate_where_the_broker_offers_it(market, user):
    watchlist = basket(user, "SBIN", "INFY")
    with_charges = baskets.preview(
        watchlist=watchlist, account=market["zerodha"], funds=D("20000"), mode="EQUAL"
    )
    assert with_charges.charges is not None and with_charges.charges > 0
    without = baskets.preview(
        watchlist=watchlist, account=market["angelone"], funds=D("20000"), mode="EQUAL"
    )
    assert without.charges is None
    assert without.charges_note == "AngelOne offers no charges estimate."


def test_locked_members_over_the_funds_refuse_the_buy(market, user, client):
    watchlist = basket(user, "SBIN", "TCS")
    watchlist.members.filter(symbol="TCS").update(locked=True, quantity=3)  # 12,000
    client.force_login(user)
    url = reverse("watchlists:basket", args=[watchlist.pk])
    form = {
        "account": market["zerodha"].pk,
        "funds": "100",
        "mode": "EQUAL",
        "product": "CNC",
        "order_type": "LIMIT",
        "buffer_pct": "0",  # limit = LTP: the round figures below
    }
    html = client.post(url, {**form, "action": "preview"}, headers=HX).content.decode()
    assert 'id="basket-locked-over"' in html and "Short by ₹11,900.00" in html
    assert "locked: keeps Qty 3" in html
    for action in ("queue", "now", "now_confirm"):
        response = client.post(url, {**form, "action": action}, headers=HX)
        assert response.status_code == 422
        assert "The locked members alone cost ₹12,000.00" in response.content.decode()
    assert not Order.objects.exists() and not BasketRun.objects.exists()


# --- What the trader confirmed is what is sent (watchlists/confirmations.py) --------------


def _ask_now(client, url, form):
    asked = client.post(url, {**form, "action": "now"}, headers=HX)
    assert asked.status_code == 200 and not Order.objects.exists()
    return asked.content.decode()


@pytest.fixture
def buy_now_form(market, user, client):
    watchlist = basket(user, "SBIN", "INFY")
    client.force_login(user)
    form = {
        "account": market["zerodha"].pk,
        "funds": "30000",
        "mode": "EQUAL",
        "product": "CNC",
        "order_type": "MARKET",
        "buffer_pct": "0.5",
    }
    return reverse("watchlists:basket", args=[watchlist.pk]), form


def test_buy_now_refuses_a_confirm_whose_funds_changed_after_the_dialog(buy_now_form, client):
    url, form = buy_now_form
    plan = plan_of(_ask_now(client, url, form))
    # The trader typed 300000 over 30000 while the confirmation was showing.
    changed = client.post(
        url, {**form, "funds": "300000", "action": "now_confirm", "plan": plan}, headers=HX
    )
    html = changed.content.decode()
    assert changed.status_code == 409 and not Order.objects.exists()
    assert "settings changed after the confirmation appeared: nothing was sent" in html
    # The plan for the new funds is shown, to confirm on its own.
    assert 'id="basket-confirm-now"' in html and "₹2,99," in html
    client.post(
        url, {**form, "funds": "300000", "action": "now_confirm", "plan": plan_of(html)}, headers=HX
    )
    assert sum(o.quantity * 800 if "SBIN" in o.symbol else 0 for o in Order.objects.all()) > 100000


def test_buy_now_sends_the_confirmed_quantities_even_after_prices_moved(
    buy_now_form, client, market
):
    url, form = buy_now_form
    html = _ask_now(client, url, form)
    confirmed = dict(re.findall(r'<tr data-symbol="(\w+)">.*?data-testid="qty">(\d+)<', html, re.S))
    assert confirmed == {"SBIN": "18", "INFY": "10"}
    market["emu"].state.market.set_price("NSE", "SBIN", "400")  # recomputing would buy 37
    client.post(url, {**form, "action": "now_confirm", "plan": plan_of(html)}, headers=HX)
    sent = {o.symbol: o.quantity for o in Order.objects.all()}
    assert sent == {"NSE:SBIN": 18, "NSE:INFY": 10}


def test_a_tampered_or_missing_plan_sends_nothing(buy_now_form, client):
    url, form = buy_now_form
    plan = plan_of(_ask_now(client, url, form))
    for bad in ("", plan[:-2] + "xx", "e30:1abc:zz"):
        response = client.post(url, {**form, "action": "now_confirm", "plan": bad}, headers=HX)
        assert response.status_code == 409, bad
        assert "could not be read" in response.content.decode()
    assert not Order.objects.exists()


def test_an_old_confirmation_is_refused(buy_now_form, client, monkeypatch):
    from watchlists import confirmations

    url, form = buy_now_form
    plan = plan_of(_ask_now(client, url, form))
    monkeypatch.setattr(confirmations, "MAX_AGE", -1)
    response = client.post(url, {**form, "action": "now_confirm", "plan": plan}, headers=HX)
    assert "more than" in response.content.decode() and not Order.objects.exists()


def _sbin_basket_that_bought_4(market, user, client, *, held):
    """A basket "Core" of SBIN that bought 4 in Zerodha, which holds `held` SBIN now;
    the signed-in client, the basket's URL and its MARKET sell form."""
    seed(market["kite"], holdings=[("SBIN", held, "700")])
    portfolio_sync_account(market["zerodha"])
    watchlist = basket(user, "SBIN")
    _bought(watchlist, market["zerodha"], (_instrument("SBIN"), 4))
    client.force_login(user)
    url = reverse("watchlists:basket", args=[watchlist.pk])
    form = {"account": market["zerodha"].pk, "product": "CNC", "order_type": "MARKET"}
    form["buffer_pct"] = "0.5"
    return watchlist, url, form


def test_sell_confirm_sells_the_confirmed_legs_not_what_filled_since(market, user, client):
    watchlist, url, form = _sbin_basket_that_bought_4(market, user, client, held=40)
    html = client.post(url, {**form, "action": "sell"}, headers=HX).content.decode()
    assert 'data-testid="sell-qty">4<' in html
    _bought(watchlist, market["zerodha"], (_instrument("SBIN"), 6))  # filled since
    client.post(url, {**form, "action": "sell_confirm", "plan": plan_of(html)}, headers=HX)
    assert list(Order.objects.filter(side="SELL").values_list("quantity", flat=True)) == [4]


def test_sell_confirm_is_refused_when_the_basket_now_holds_less(market, user, client):
    watchlist, url, form = _sbin_basket_that_bought_4(market, user, client, held=4)
    html = client.post(url, {**form, "action": "sell"}, headers=HX).content.decode()
    seed(market["kite"], holdings=[("SBIN", 1, "700")])  # sold 3 elsewhere since
    portfolio_sync_account(market["zerodha"])
    response = client.post(
        url, {**form, "action": "sell_confirm", "plan": plan_of(html)}, headers=HX
    )
    assert response.status_code == 409 and not Order.objects.filter(side="SELL").exists()
    assert "changed after the confirmation appeared: nothing was sold" in response.content.decode()
    assert 'data-testid="sell-qty">1<' in response.content.decode()


def test_a_limit_basket_is_sized_at_its_limit_prices_within_the_funds(market, user):
    watchlist = basket(user, "SBIN", "INFY")
    plan = baskets.preview(
        watchlist=watchlist,
        account=market["zerodha"],
        funds=D("10000"),
        mode="EQUAL",
        order_type="LIMIT",
        buffer_pct=D("5"),
    )
    legs = {leg.member.symbol: leg for leg in plan.legs}
    assert legs["SBIN"].limit == D("840.00") and legs["INFY"].limit == D("1575.00")
    assert plan.spent == sum(leg.limit * leg.quantity for leg in plan.legs) <= D("10000")


def test_weights_that_do_not_add_up_to_100_are_explained(market, user):
    watchlist = basket(user, "SBIN", "INFY")
    watchlist.members.filter(symbol="SBIN").update(weight=D("90"))
    watchlist.members.filter(symbol="INFY").update(weight=D("50"))
    plan = baskets.preview(
        watchlist=watchlist, account=market["zerodha"], funds=D("10000"), mode="WEIGHT"
    )
    assert plan.note == (
        "The weights add up to 140, not 100: each member gets its weight ÷ 140 of the funds."
    )
    watchlist.members.filter(symbol="INFY").update(weight=D("10"))
    plan = baskets.preview(
        watchlist=watchlist, account=market["zerodha"], funds=D("10000"), mode="WEIGHT"
    )
    assert plan.note == ""


def test_one_order_and_one_price_are_said_in_the_singular(market, user, client):
    watchlist = basket(user, "SBIN")
    client.force_login(user)
    form = {
        "account": market["zerodha"].pk,
        "action": "preview",
        "funds": "1000",
        "mode": "EQUAL",
        "product": "CNC",
        "order_type": "LIMIT",
        "buffer_pct": "0.5",
    }
    url = reverse("watchlists:basket", args=[watchlist.pk])
    preview = client.post(url, form, headers=HX).content.decode()
    assert "1 order for" in preview and "1 orders" not in preview
    frozen = client.post(url, {**form, "action": "freeze"}, headers=HX).content.decode()
    assert "Froze 1 reference price." in frozen
    bought = client.post(url, {**form, "action": "queue"}, headers=HX).content.decode()
    assert "1 order in the queue" in bought and "1 orders" not in bought


def test_a_sell_says_from_the_account_not_into_it(market, user, client):
    watchlist, url, form = _sbin_basket_that_bought_4(market, user, client, held=40)
    html = client.post(url, {**form, "action": "sell"}, headers=HX).content.decode()
    done = client.post(url, {**form, "action": "sell_confirm", "plan": plan_of(html)}, headers=HX)
    assert "Sell Core from Zerodha · z: 1 order in the queue" in done.content.decode()
