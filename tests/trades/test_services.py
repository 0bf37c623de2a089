"""Rebuilding round trips in the database: strategies, adjustments, opening lots, the
management command, and scoping to one user."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orders.models import Order, Strategy
from trades import services
from trades.models import OpeningLot, RoundTrip, Trade
from trades.stats import curve_points, max_drawdown, summarise

from .helpers import make_trade

pytestmark = pytest.mark.django_db
D = Decimal


def test_rebuild_is_repeatable_and_labels_the_opening_strategy(user, account):
    strategy = Strategy.objects.create(user=user, name="Breakout")
    entry = Order.objects.create(
        user=user,
        account=account,
        account_name="x",
        symbol="INFY",
        side="BUY",
        quantity=10,
        strategy=strategy,
        source=Order.Source.TRADINGVIEW,
    )
    make_trade(account, 1, "BUY", 10, 100, "2025-06-02T10:00", order=entry)
    make_trade(account, 2, "SELL", 10, 110, "2025-06-03T10:00")
    make_trade(account, 3, "BUY", 5, 200, "2025-06-04T10:00", symbol="TCS")
    make_trade(account, 4, "SELL", 5, 190, "2025-06-04T11:00", symbol="TCS")
    services.rebuild(user=user)
    first = list(RoundTrip.objects.values_list("symbol", "strategy", "gross", "classification"))
    assert first == [
        ("INFY", "Breakout", D("100"), "STCG"),
        ("TCS", "Placed outside the app", D("-50"), "INTRADAY"),
    ]
    services.rebuild(user=user)
    assert (
        list(RoundTrip.objects.values_list("symbol", "strategy", "gross", "classification"))
        == first
    )


def test_an_adjustment_reruns_the_matching(user, account):
    make_trade(account, 1, "BUY", 10, 1000, "2025-04-10T10:00")
    make_trade(account, 2, "SELL", 50, 210, "2025-06-10T10:00")
    services.rebuild(user=user)
    assert RoundTrip.objects.get().quantity == 10  # 40 shares "short" before the split is known
    services.add_adjustment(
        user=user,
        symbol="infy",
        exchange="",
        kind="split",
        ex_date=date(2025, 5, 1),
        old=1,
        new=5,
    )
    trip = RoundTrip.objects.get()
    assert trip.quantity == 50 and trip.open_average == D("200") and trip.gross == D("500")
    with pytest.raises(services.Refused):
        services.add_adjustment(
            user=user,
            symbol="INFY",
            exchange="",
            kind="bonus",
            ex_date=date(2025, 5, 1),
            old=2,
            new=1,
        )


def test_opening_lot_less_imported_history_before_it(user, account):
    """Holdings taken as an opening lot on 1 Jun, then the history before it imported:
    the imported buy is the same shares, not more."""
    OpeningLot.objects.create(
        user=user,
        account=account,
        exchange="NSE",
        symbol="INFY",
        quantity=10,
        average_price=D("950"),
        as_of=date(2025, 6, 1),
    )
    make_trade(account, 1, "BUY", 6, 900, "2025-05-02T10:00", origin=Trade.Origin.IMPORTED)
    make_trade(account, 2, "SELL", 10, 1000, "2025-06-20T10:00")
    services.rebuild(user=user)
    imported, lot = RoundTrip.objects.order_by("seq")
    assert (imported.quantity, imported.open_average, imported.from_opening_lot) == (
        6,
        D("900"),
        False,
    )
    assert (lot.quantity, lot.open_average, lot.from_opening_lot) == (4, D("950"), True)
    assert imported.strategy == "Imported history" and lot.strategy == "Opening holdings"


def test_rebuild_of_one_user_leaves_the_other_alone(user, account, other_user, other_account):
    make_trade(account, 1, "BUY", 1, 100, "2025-06-02T10:00")
    make_trade(account, 2, "SELL", 1, 120, "2025-06-02T11:00")
    make_trade(other_account, 3, "BUY", 1, 100, "2025-06-02T10:00")
    make_trade(other_account, 4, "SELL", 1, 90, "2025-06-02T11:00")
    services.rebuild(user=other_user)
    services.rebuild(user=user, account=account)
    assert RoundTrip.objects.get(user=user).gross == D("20")
    assert RoundTrip.objects.get(user=other_user).gross == D("-10")
    services.rebuild(user=user)
    assert RoundTrip.objects.filter(user=other_user).count() == 1


def test_management_command(user, account):
    make_trade(account, 1, "BUY", 1, 100, "2025-06-02T10:00")
    make_trade(account, 2, "SELL", 1, 120, "2025-06-02T11:00")
    out = StringIO()
    call_command("rebuild_pnl", user=user.username, account=account.pk, stdout=out)
    assert "2 fills -> 1 round trips" in out.getvalue()
    assert RoundTrip.objects.count() == 1
    with pytest.raises(CommandError, match="no account"):
        call_command("rebuild_pnl", user=user.username, account=99999)
    with pytest.raises(CommandError, match="No user"):
        call_command("rebuild_pnl", user="nobody")


def test_summary_win_rate_drawdown_and_curve(user, account):
    for n, (buy, sell) in enumerate([(100, 130), (100, 80), (100, 90), (100, 150)]):
        make_trade(account, 2 * n, "BUY", 1, buy, f"2025-06-0{n + 2}T10:00")
        make_trade(account, 2 * n + 1, "SELL", 1, sell, f"2025-06-0{n + 2}T11:00")
    services.rebuild(user=user)
    s = summarise(RoundTrip.objects.order_by("closed_at", "seq"))
    assert s.trades == 4 and s.wins == 2 and s.win_rate == D("50.0")
    assert s.largest_loss < 0 and s.net == s.gross - s.charges
    # gross 30, -20, -10, 50: the equity falls from its peak by (20 + 10) plus charges.
    nets = [t.net for t in RoundTrip.objects.order_by("closed_at", "seq")]
    assert s.max_drawdown == max_drawdown(nets) == -(nets[1] + nets[2])
    chart = curve_points(s.curve, width=100, height=50)
    assert chart is not None and len(chart.points.split()) == 5  # 0 and four closes
    assert curve_points([]) is None


def test_a_long_curve_is_thinned_but_keeps_its_extremes():
    from trades.stats import thin

    values = [D(i % 97) - D(i % 13) for i in range(50_000)]
    values[31_337] = D("-5000")  # the worst point
    kept = thin(values, 1200)
    assert len(kept) <= 1300 and min(kept) == D("-5000") and max(kept) == max(values)
    assert kept[-1] == values[-1] and kept[0] == values[0]
    chart = curve_points(values)
    assert chart.low == D("-5000") and len(chart.points.split()) <= 1300


def test_rebuilding_some_symbols_equals_rebuilding_all(user, account):
    fills = [
        ("BUY", 10, 100, "2025-06-02T10:00", "INFY"),
        ("BUY", 4, 300, "2025-06-02T10:05", "TCS"),
        ("SELL", 6, 110, "2025-06-03T10:00", "INFY"),
        ("SELL", 4, 310, "2025-06-04T10:00", "TCS"),
    ]
    for n, (side, qty, price, when, symbol) in enumerate(fills):
        make_trade(account, n, side, qty, price, when, symbol=symbol)
    services.rebuild(user=user)
    make_trade(account, 9, "SELL", 4, 120, "2025-06-05T10:00", symbol="INFY")

    def snapshot():
        return sorted(
            RoundTrip.objects.values_list("symbol", "quantity", "open_date", "close_date", "net")
        )

    result = services.rebuild(user=user, account=account, symbols=["INFY"])
    assert result.fills == 3  # INFY's only
    partial = snapshot()
    services.rebuild(user=user)
    assert partial == snapshot() and len(partial) == 3
