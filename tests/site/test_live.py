"""Live pages: one batched quote call per account fills a shared cache; every poll reads
the cache and the database only; toasts come once per recorded event, to its owner."""

from decimal import Decimal

import pytest
from django.urls import reverse

from brokers import accounts
from marketdata import live as live_cache
from marketdata import refresh
from orders.execution import create_order, execute
from orders.models import Order
from orders.sync import order_sync_account
from portfolio.live import quote_plan, refresh_live_quotes
from portfolio.models import Holding, Position
from portfolio.sync import portfolio_sync_account
from tests.brokers.peers import connected_account, peer_class
from tests.brokers.peers.paper import connected_paper_account
from tests.portfolio.helpers import seed

HX = {"HX-Request": "true"}
REMOTE = ("zerodha", "angelone")  # the brokers with a quote call of their own


@pytest.fixture
def three(emulator, user, settings):
    """Zerodha, AngelOne and a paper account priced by the AngelOne one, each with orders."""
    settings.MARKET_ALWAYS_OPEN = True
    settings.ORDER_RECONCILE_GRACE_SECONDS = 0
    zerodha, kite = connected_account(emulator, user, "zerodha", "z")
    angel, smart = connected_account(emulator, user, "angelone", "a")
    seed(kite, holdings=[("ITC", 10, "400")], positions=[("SBIN", "MIS", 3, "790")])
    seed(smart, holdings=[("INFY", 4, "1400")])
    refresh.refresh_instruments(broker="zerodha")
    refresh.refresh_instruments(broker="angelone")
    paper = connected_paper_account(
        user, price_source="a", starting_cash="1000000", load_instruments=True
    )
    market = emulator.state.market
    for symbol, price in (("SBIN", "800"), ("INFY", "1500"), ("TCS", "4000"), ("ITC", "450")):
        market.set_price("NSE", symbol, price)
    for account in (zerodha, angel, paper):
        for symbol in ("SBIN", "INFY", "TCS"):
            new(account, symbol)
    new(paper, "ITC")  # only the paper account wants ITC: AngelOne's batch carries it
    return zerodha, angel, paper, emulator


def new(account, symbol="SBIN", **fields):
    fields.setdefault("side", "BUY")
    fields.setdefault("quantity", 2)
    return create_order(
        user=account.user, account=account, symbol=f"NSE:{symbol}", actor="alice", **fields
    )


def quote_calls(emulator, broker):
    return emulator.state.count(peer_class(broker).wire, "quote")


def test_refresh_makes_one_batched_call_per_real_account(three):
    zerodha, angel, paper, emulator = three
    before = {b: quote_calls(emulator, b) for b in REMOTE}
    outcome = refresh_live_quotes()
    assert {b: quote_calls(emulator, b) - before[b] for b in REMOTE} == {
        "zerodha": 1,
        "angelone": 1,
    }
    assert outcome[zerodha.pk] == 3 and paper.pk not in outcome  # paper has no quote call
    # Its own three, the paper account's same three from the same quotes, and ITC
    # (asked only by paper) stored for both brokers' instruments: 8 cache entries.
    assert outcome[angel.pk] == 3 + 3 + 2
    plan = quote_plan()
    assert sorted(a.pk for a in plan) == sorted([zerodha.pk, angel.pk])
    paper_itc = Order.objects.get(account=paper, symbol__contains="ITC").instrument
    assert live_cache.cached([paper_itc])[paper_itc.pk].price == Decimal("450")


def test_instruments_come_from_open_orders_holdings_and_positions_only(three):
    zerodha, angel, paper, emulator = three
    Order.objects.filter(account=zerodha).update(status=Order.Status.CANCELLED)
    assert zerodha not in quote_plan()  # nothing open: no quote call at all
    portfolio_sync_account(zerodha)
    held = set(
        Holding.objects.filter(account=zerodha, instrument__isnull=False).values_list(
            "instrument", flat=True
        )
    )
    positions = set(Position.objects.filter(account=zerodha).values_list("instrument", flat=True))
    assert len(held) == 1 and len(positions) == 1  # ITC held, SBIN intraday
    plan = quote_plan()
    assert {i.pk for i, _ in plan[zerodha]} == held | positions


def all_polls(client, orders):
    have = ",".join(f"{o.pk}.0.q" for o in orders)
    return [
        client.get(reverse("live-orders"), {"page": "queue", "have": have}, headers=HX),
        client.get(reverse("live-orders"), {"page": "orders", "have": have}, headers=HX),
        client.get(reverse("live-portfolio", args=["holdings"]), {"account": "all"}, headers=HX),
        client.get(reverse("live-portfolio", args=["positions"]), headers=HX),
        client.get(reverse("live-dashboard"), headers=HX),
        client.get(reverse("live-toasts"), headers=HX),
    ]


@pytest.mark.parametrize("cache_filled", [True, False])
def test_polls_and_pages_never_call_a_broker(three, client, cache_filled):
    zerodha, angel, paper, emulator = three
    client.force_login(zerodha.user)
    for account in (zerodha, angel):
        portfolio_sync_account(account)
    if cache_filled:
        refresh_live_quotes()
    orders = list(Order.objects.all())
    calls = len(emulator.state.requests)
    responses = all_polls(client, orders)
    for name in (
        "orders:queue",
        "orders:orders",
        "portfolio:holdings",
        "portfolio:positions",
        "dashboard",
    ):
        responses.append(client.get(reverse(name)))
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert len(emulator.state.requests) == calls  # not one call at the emulator
    body = responses[0].content.decode()
    first = orders[0]
    if cache_filled:
        assert f'id="ltp-{first.pk}" class="ltp" title="Live price, 0 s ago"' in body
    else:
        no_price = '"ltp" hx-swap-oob="true"><span class="muted" title="No price yet">—'
        assert f'id="ltp-{first.pk}" class={no_price}' in body


def test_a_stale_price_is_shown_greyed_with_its_age(three, client):
    zerodha, *_ = three
    client.force_login(zerodha.user)
    order = Order.objects.filter(account=zerodha).first()
    live_cache.store(order.instrument, price=Decimal("801"), close=None, at=0.0 + 1e9)
    body = client.get(reverse("orders:queue"), {"account": zerodha.pk}).content.decode()
    assert f'id="ltp-{order.pk}" class="ltp stale" title="Live price, ' in body
    assert " h ago" in body


def test_the_orders_poll_sends_only_what_changed(three, client):
    zerodha, *_ = three
    client.force_login(zerodha.user)
    order = Order.objects.filter(account=zerodha).first()
    page = client.get(reverse("orders:queue"), {"account": zerodha.pk}).content.decode()
    have = page.split('id="live-have" name="have" value="')[1].split('"')[0]
    quiet = client.get(
        reverse("live-orders"), {"page": "queue", "have": have}, headers=HX
    ).content.decode()
    assert f'id="status-{order.pk}"' not in quiet and f'id="actions-{order.pk}"' not in quiet
    execute(order=order, actor="alice")
    changed = client.get(
        reverse("live-orders"), {"page": "queue", "have": have}, headers=HX
    ).content.decode()
    assert f'id="status-{order.pk}" class="status-box" hx-swap-oob="true"' in changed
    assert "Sent" in changed
    assert (
        f'id="actions-{order.pk}" class="acts" hx-swap-oob="true"' in changed
    )  # now "See in Orders"


def test_another_users_orders_are_not_polled(three, client, other_user):
    zerodha, *_ = three
    client.force_login(other_user)
    order = Order.objects.filter(account=zerodha).first()
    body = client.get(
        reverse("live-orders"), {"page": "orders", "have": f"{order.pk}.0.q"}, headers=HX
    ).content.decode()
    assert f"status-{order.pk}" not in body and f"ltp-{order.pk}" not in body


# --- Toasts --------------------------------------------------------------------------------


def toasts(client):
    return client.get(reverse("live-toasts"), headers=HX).content.decode().strip()


def test_toasts_once_per_event_and_only_to_the_owner(three, client, other_user):
    zerodha, angel, paper, emulator = three
    mine, theirs = client, type(client)()
    mine.force_login(zerodha.user)
    theirs.force_login(other_user)
    assert toasts(mine) == toasts(theirs) == ""  # first poll: the cursor starts now
    emulator.state.market.set_price("NSE", "SBIN", "810.50")
    filled = execute(order=Order.objects.get(account=zerodha, symbol__contains="SBIN"), actor="a")
    rejected = execute(
        order=new(zerodha, "TCS", quantity=100000), actor="alice"
    )  # far beyond the account's funds
    order_sync_account(zerodha)
    filled.refresh_from_db(), rejected.refresh_from_db()
    assert (filled.status, rejected.status) == ("EXECUTED", "REJECTED")
    body = toasts(mine)
    assert body.count('class="toast ') == 2
    assert f"#{filled.pk} BUY 2 SBIN" in body and "Order executed" in body
    assert "Order rejected" in body and rejected.status_message in body
    assert 'data-dismiss-toast aria-label="Dismiss: Order rejected"' in body
    assert toasts(mine) == ""  # once
    assert toasts(theirs) == ""  # never to another user


def test_a_toast_when_a_session_expires(three, client):
    zerodha, *_ = three
    client.force_login(zerodha.user)
    toasts(client)
    accounts.mark_expired(account=zerodha, reason="token gone")
    body = toasts(client)
    assert "Session expired" in body and zerodha.display_name in body
    assert toasts(client) == ""


def test_the_toast_region_is_on_every_page_and_accessible(three, client):
    zerodha, *_ = three
    client.force_login(zerodha.user)
    for name in (
        "dashboard",
        "orders:queue",
        "orders:orders",
        "portfolio:holdings",
        "portfolio:positions",
        "events",
    ):
        body = client.get(reverse(name)).content.decode()
        assert 'id="toasts" class="toasts" role="status" aria-live="polite"' in body, name
        assert "{#" not in body and "#}" not in body, name  # a multi-line {# #} is printed


# --- Issue 12, item 13: rows, colours, paper cash ---------------------------------------------


def test_a_row_swapped_after_edit_or_execute_shows_its_price(three, client):
    zerodha, *_ = three
    client.force_login(zerodha.user)
    refresh_live_quotes()
    first, second = (
        Order.objects.filter(account=zerodha, symbol__contains="SBIN")[:1].get(),
        (Order.objects.filter(account=zerodha, symbol__contains="INFY").get()),
    )
    edited = client.post(
        reverse("orders:queue-edit", args=[first.pk]),
        {
            "account": zerodha.pk,
            "symbol": "NSE:SBIN",
            "side": "BUY",
            "quantity": 5,
            "order_type": "MARKET",
            "product": "CNC",
        },
        headers=HX,
    ).content.decode()
    assert f'id="ltp-{first.pk}" class="ltp" title="Live price, 0 s ago">₹800.00' in edited
    executed = client.post(
        reverse("orders:queue-execute", args=[second.pk]), headers=HX
    ).content.decode()
    assert f'id="ltp-{second.pk}" class="ltp" title="Live price, 0 s ago">₹1,500.00' in executed


def test_a_cancelled_order_says_cancelled_not_its_old_failure(three, client):
    zerodha, *_ = three
    client.force_login(zerodha.user)
    order = Order.objects.filter(account=zerodha).first()
    Order.objects.filter(pk=order.pk).update(status_message="The market is closed. Mark it AMO.")
    row = client.post(reverse("orders:queue-cancel", args=[order.pk]), headers=HX).content.decode()
    assert "Cancelled" in row and "market is closed" not in row
    listed = client.get(reverse("orders:orders")).content.decode()
    assert "market is closed" not in listed


def test_zero_pnl_is_neutral_and_totals_are_coloured(three, client, emulator):
    zerodha, angel, *_ = three
    client.force_login(zerodha.user)
    emulator.state.market.set_price("NSE", "ITC", "400")  # ITC held at 400: P&L exactly 0
    emulator.state.market.set_price("NSE", "INFY", "1300")  # INFY held at 1400: a loss
    for account in (zerodha, angel):
        portfolio_sync_account(account)
    body = client.get(reverse("portfolio:holdings"), {"account": zerodha.pk}).content.decode()
    itc = body.split('data-symbol="ITC"')[1].split("</tr>")[0]
    assert '-pnl" class="">₹0.00 <small>(0.00%)</small>' in itc  # neither profit nor loss
    merged = client.get(reverse("portfolio:holdings"), {"account": "all"}).content.decode()
    totals = merged.split('id="holdings-totals"')[1].split("</section>")[0]
    assert (
        'class="num loss" data-label="P&amp;L">-₹400.00' in totals
    )  # AngelOne's row: INFY 4 x -100
    assert 'class="num " data-label="P&amp;L">₹0.00' in totals  # Zerodha's row: zero, neutral
    board = client.get(reverse("dashboard")).content.decode()
    assert 'class="loss" data-testid="overall-pnl">-₹400.00' in board


def test_paper_cash_is_on_the_dashboard_before_any_sync(three, client):
    zerodha, angel, paper, _ = three
    client.force_login(zerodha.user)
    board = client.get(reverse("dashboard")).content.decode()
    tile = board.split(f'data-account="{paper.display_name}"')[1].split("</section>")[0]
    assert '<dd data-testid="cash">₹10,00,000.00</dd>' in tile


def test_the_quote_refresh_is_scheduled_every_five_seconds_and_thins_off_hours(three, settings):
    from django_celery_beat.models import PeriodicTask

    from portfolio.tasks import refresh_live_quotes as task

    zerodha, angel, paper, emulator = three
    schedule = PeriodicTask.objects.get(task="sigmatrader.refresh_live_quotes")
    assert schedule.enabled and (schedule.interval.every, schedule.interval.period) == (
        5,
        "seconds",
    )
    assert task() == {str(zerodha.pk): 3, str(angel.pk): 8}
    settings.MARKET_ALWAYS_OPEN, settings.MARKET_CLOCK = False, "always-closed"
    before = quote_calls(emulator, "zerodha")
    assert task() != {"skipped": "market closed"}  # off hours: once a minute
    assert task() == {"skipped": "market closed"}
    assert quote_calls(emulator, "zerodha") - before == 1


def test_a_toast_when_an_outcome_is_unknown_and_then_when_it_is_found(three, client):
    from emulator import Fault

    zerodha, _, _, emulator = three
    client.force_login(zerodha.user)
    toasts(client)
    emulator.state.inject("kite", "place", Fault("drop_after_accept", seconds=2.5))
    order = execute(order=Order.objects.filter(account=zerodha).first(), actor="alice")
    assert order.status == "UNKNOWN"
    body = toasts(client)
    assert "Order outcome unknown" in body and "never resent" in body
    order_sync_account(zerodha)  # reconciled by its tag: executed at the broker
    assert "Order executed" in toasts(client)


def test_the_positions_poll_carries_each_quantity(three, client):
    """The second review (L5): after a square-off the Positions row kept its old
    quantity until a reload; the poll now swaps the quantity in with the prices."""
    from portfolio.models import Position
    from sigmatrader.templatetags.live import live_key

    zerodha, *_ = three
    client.force_login(zerodha.user)
    portfolio_sync_account(zerodha)
    position = Position.objects.get(account=zerodha, symbol="SBIN")
    key = live_key(position)
    page = client.get(reverse("portfolio:positions"), {"account": zerodha.pk}).content.decode()
    assert f'id="{key}-qty"' in page
    Position.objects.filter(pk=position.pk).update(quantity=0)  # squared off, synced
    poll = client.get(
        reverse("live-portfolio", args=["positions"]), {"account": zerodha.pk}, headers=HX
    ).content.decode()
    assert f'<span id="{key}-qty" class="" hx-swap-oob="true">0</span>' in poll
