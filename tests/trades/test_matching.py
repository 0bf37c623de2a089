"""FIFO matching on hand-checked fixtures, and its invariants under hypothesis.

Pure functions: no database."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trades.matching import (
    IST,
    AdjustmentSpec,
    Fill,
    add_months,
    financial_year,
    fy_label,
    match_fills,
)

D = Decimal


def at(day: str, hhmm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=IST)


def fill(
    ref,
    side,
    qty,
    price,
    when,
    *,
    symbol="INFY",
    exchange="NSE",
    product="CNC",
    account=1,
    order="",
    strategy="s",
    **extra,
):
    return Fill(
        ref,
        account,
        exchange,
        symbol,
        product,
        side,
        qty,
        D(price),
        when,
        order=order or f"o{ref}",
        strategy=strategy,
        **extra,
    )


def test_partial_fills_and_many_fills_per_order_make_one_round_trip():
    # Buy order B1 fills 30 + 70 at 100 and 101; sell order S1 fills 40 + 60 at 110, 111.
    fills = [
        fill(1, "BUY", 30, "100", at("2025-06-02", "09:20"), order="B1"),
        fill(2, "BUY", 70, "101", at("2025-06-02", "09:21"), order="B1"),
        fill(3, "SELL", 40, "110", at("2025-06-10", "11:00"), order="S1"),
        fill(4, "SELL", 60, "111", at("2025-06-10", "11:01"), order="S1"),
    ]
    [trip] = match_fills(fills).round_trips
    assert trip.quantity == 100
    # open value 30*100 + 70*101 = 10070; close 40*110 + 60*111 = 11060
    assert trip.open_value == D("10070") and trip.close_value == D("11060")
    assert trip.open_average == D("100.7") and trip.close_average == D("110.6")
    assert trip.gross == D("990")
    assert trip.classification == "STCG" and trip.direction == "LONG"
    assert trip.open_date == date(2025, 6, 2) and trip.close_date == date(2025, 6, 10)


def test_fifo_takes_the_oldest_lot_first_and_keeps_the_rest_open():
    fills = [
        fill(1, "BUY", 10, "100", at("2025-06-02")),
        fill(2, "BUY", 10, "200", at("2025-06-03")),
        fill(3, "SELL", 15, "300", at("2025-06-04")),
    ]
    result = match_fills(fills)
    first, second = result.round_trips  # two purchase dates: two rows
    assert (first.quantity, first.open_average, first.gross) == (10, D("100"), D("2000"))
    assert (second.quantity, second.open_average, second.gross) == (5, D("200"), D("500"))
    [lots] = result.open_lots.values()
    assert [(lot.quantity, lot.price) for lot in lots] == [(5, D("200"))]


def test_short_sale_then_cover_same_day_is_intraday_and_sign_is_right():
    fills = [
        fill(1, "SELL", 50, "500", at("2025-07-01", "09:30"), product="MIS"),
        fill(2, "BUY", 50, "490", at("2025-07-01", "15:00"), product="MIS"),
    ]
    [trip] = match_fills(fills).round_trips
    assert trip.direction == "SHORT" and trip.gross == D("500")  # sold 25000, bought 24500
    assert trip.classification == "INTRADAY" and trip.product_class == "MIS"


def test_same_day_cnc_square_off_is_intraday_and_overnight_is_delivery():
    fills = [
        fill(1, "BUY", 10, "100", at("2025-07-01", "09:30")),
        fill(2, "SELL", 10, "101", at("2025-07-01", "14:00")),
        fill(3, "BUY", 10, "100", at("2025-07-01", "14:10")),
        fill(4, "SELL", 10, "102", at("2025-07-02", "10:00")),
    ]
    intraday, delivery = match_fills(fills).round_trips
    assert intraday.classification == "INTRADAY" and intraday.gross == D("10")
    assert delivery.classification == "STCG" and delivery.gross == D("20")


def test_a_delivery_sell_squares_that_days_buy_before_older_shares():
    """Holding older shares, a same-day buy and sell is squared intraday (the exchange
    nets it; brokers' tax reports count it so), not a sale of the older shares. An
    imported tradebook has no product column, so its intraday fills land here too."""
    fills = [
        fill(1, "BUY", 10, "100", at("2025-06-02")),
        fill(2, "BUY", 5, "110", at("2025-07-01", "09:30")),
        fill(3, "SELL", 5, "115", at("2025-07-01", "14:00")),
    ]
    [trip] = match_fills(fills).round_trips
    assert trip.classification == "INTRADAY" and trip.open_average == D("110")
    assert trip.gross == D("25")
    [lots] = match_fills(fills).open_lots.values()
    assert [(lot.quantity, lot.price) for lot in lots] == [(10, D("100"))]  # kept


def test_mis_and_cnc_of_one_instrument_never_match_each_other():
    fills = [
        fill(1, "BUY", 10, "100", at("2025-07-01", "09:30"), product="CNC"),
        fill(2, "SELL", 10, "105", at("2025-07-01", "10:00"), product="MIS"),
    ]
    result = match_fills(fills)
    assert result.round_trips == []  # a MIS short is open, the CNC buy is held
    assert len(result.open_lots) == 2


def test_holding_period_ltcg_after_twelve_months_and_grandfathering():
    fills = [
        fill(1, "BUY", 5, "1000", at("2017-05-10")),
        fill(2, "BUY", 5, "1000", at("2024-01-10")),
        fill(3, "SELL", 5, "1500", at("2025-01-10")),  # first lot: 7+ years: LTCG, pre-2018
        fill(4, "SELL", 3, "1500", at("2025-01-10", "10:05")),  # 2024-01-10 + 12m exactly: STCG
        fill(5, "SELL", 2, "1500", at("2025-01-11")),  # one day more: LTCG
    ]
    old, exact, after = match_fills(fills).round_trips
    assert old.classification == "LTCG" and old.grandfathered and "31 Jan 2018" in old.note
    assert exact.classification == "STCG" and not exact.grandfathered
    assert after.classification == "LTCG" and not after.grandfathered


def test_fno_is_its_own_class_whatever_the_holding():
    fills = [
        fill(
            1,
            "BUY",
            75,
            "120",
            at("2025-08-01"),
            symbol="NIFTY25AUGFUT",
            exchange="NFO",
            product="NRML",
        ),
        fill(
            2,
            "SELL",
            75,
            "100",
            at("2025-08-20"),
            symbol="NIFTY25AUGFUT",
            exchange="NFO",
            product="NRML",
        ),
    ]
    [trip] = match_fills(fills).round_trips
    assert trip.classification == "FNO" and trip.gross == D("-1500")


def test_opening_lot_is_matched_first_and_marked():
    lot = fill("lot", "BUY", 20, "900", at("2025-04-01", "00:00"), opening=True, order="")
    fills = [
        fill(1, "BUY", 10, "1000", at("2025-04-01", "10:00")),
        lot,
        fill(2, "SELL", 25, "1100", at("2025-05-02")),
    ]
    from_lot, tracked = match_fills(fills).round_trips
    assert from_lot.from_opening_lot and from_lot.quantity == 20
    assert from_lot.gross == D("4000")  # 20 x (1100 - 900)
    # Bought at an unknown date before 1 Apr 2025, sold within 12 months of it.
    assert from_lot.classification == "STCG" and "purchase date" in from_lot.note
    assert not tracked.from_opening_lot and tracked.quantity == 5


def test_opening_lot_with_known_purchase_date_counts_from_it():
    lot = fill(
        "lot", "BUY", 20, "900", at("2025-04-01", "00:00"), opening=True, acquired=date(2020, 3, 1)
    )
    [trip] = match_fills([lot, fill(2, "SELL", 20, "1100", at("2025-05-02"))]).round_trips
    assert trip.classification == "LTCG" and trip.note == ""


def test_split_scales_open_lots_and_bonus_adds_zero_cost_shares():
    fills = [
        fill(1, "BUY", 10, "1000", at("2025-04-10")),
        fill(2, "SELL", 50, "210", at("2025-06-10")),  # after a 1:5 split: 50 shares at 200
    ]
    split = AdjustmentSpec("INFY", "", "split", date(2025, 5, 1), 1, 5)
    [trip] = match_fills(fills, [split]).round_trips
    assert trip.quantity == 50 and trip.open_average == D("200") and trip.gross == D("500")
    assert trip.open_date == date(2025, 4, 10)  # the holding period keeps its start

    bonus = AdjustmentSpec("INFY", "NSE", "bonus", date(2025, 5, 1), 1, 2)  # 1 bonus per 1
    fills = [
        fill(1, "BUY", 10, "1000", at("2025-04-10")),
        fill(2, "SELL", 20, "600", at("2025-06-10")),
    ]
    original, free = match_fills(fills, [bonus]).round_trips
    assert (original.quantity, original.open_average, original.gross) == (10, D("1000"), D("-4000"))
    assert (free.quantity, free.open_average, free.gross) == (10, D("0"), D("6000"))
    assert free.open_date == date(2025, 5, 1)


def test_a_consolidation_that_leaves_no_whole_share_drops_the_lot():
    fills = [
        fill(1, "BUY", 5, "10", at("2025-04-10")),
        fill(2, "BUY", 20, "10", at("2025-04-11")),
        fill(3, "SELL", 2, "120", at("2025-06-10")),
    ]
    consolidation = AdjustmentSpec("INFY", "", "split", date(2025, 5, 1), 10, 1)
    result = match_fills(fills, [consolidation])
    [trip] = result.round_trips  # the 5-share lot became 0 shares: gone, not a 0-row
    assert trip.quantity == 2 and trip.open_average == D("100") and trip.gross == D("40")
    assert result.open_lots == {}


def test_without_the_adjustment_the_same_sell_is_unmatched_not_a_short():
    fills = [
        fill(1, "BUY", 10, "1000", at("2025-04-10")),
        fill(2, "SELL", 50, "210", at("2025-06-10")),
    ]
    result = match_fills(fills)
    [trip] = result.round_trips
    assert trip.quantity == 10  # the 40 left over: a delivery short cannot exist
    assert result.open_lots == {}
    [sale] = result.unmatched
    assert (sale.quantity, sale.ref, sale.day) == (40, 2, date(2025, 6, 10))


def test_financial_year_boundary_31_march_and_1_april():
    fills = [
        fill(1, "BUY", 1, "100", at("2025-03-03")),
        fill(2, "SELL", 1, "110", at("2025-03-31", "15:29")),
        fill(3, "BUY", 1, "100", at("2025-03-31", "15:29")),
        fill(4, "SELL", 1, "120", at("2025-04-01", "09:15")),
    ]
    march, april = match_fills(fills).round_trips
    assert march.financial_year == 2024 and fy_label(march.financial_year) == "FY 2024-25"
    assert april.financial_year == 2025 and fy_label(april.financial_year) == "FY 2025-26"
    # A fill at 23:59 UTC on 31 March is 1 April in India: the India date decides.
    late = datetime(2025, 3, 31, 20, 0, tzinfo=IST).astimezone(IST)
    assert financial_year((late + timedelta(hours=5)).date()) == 2025
    assert financial_year(date(2025, 3, 31)) == 2024 and financial_year(date(2025, 4, 1)) == 2025


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)


# --- Properties ----------------------------------------------------------------------

SYMBOLS = st.sampled_from([("NSE", "INFY"), ("NSE", "TCS"), ("NFO", "NIFTYFUT")])
FILLS = st.lists(
    st.tuples(
        st.sampled_from([1, 2]),  # account
        SYMBOLS,
        st.sampled_from(["CNC", "MIS"]),
        st.sampled_from(["BUY", "SELL"]),
        st.integers(min_value=1, max_value=500),
        st.integers(min_value=1, max_value=5000),
        st.integers(min_value=0, max_value=2000),  # hours after the start
    ),
    max_size=60,
)


def build(raw) -> list[Fill]:
    start = at("2024-01-01", "09:15")
    return [
        Fill(
            n,
            acc,
            ex,
            sym,
            product,
            side,
            qty,
            D(price),
            start + timedelta(hours=hours),
            order=f"o{n}",
        )
        for n, (acc, (ex, sym), product, side, qty, price, hours) in enumerate(raw)
    ]


@settings(max_examples=200, deadline=None)
@given(FILLS)
def test_quantities_conserve_per_book(raw):
    fills = build(raw)
    result = match_fills(fills)
    bought, sold = defaultdict(int), defaultdict(int)
    for f in fills:
        (bought if f.side == "BUY" else sold)[f.book] += f.quantity
    matched_long, matched_short = defaultdict(int), defaultdict(int)
    for trip in result.round_trips:
        (matched_long if trip.direction == "LONG" else matched_short)[trip.book] += trip.quantity
    open_long, open_short = defaultdict(int), defaultdict(int)
    for book, lots in result.open_lots.items():
        for lot in lots:
            (open_long if lot.side == "BUY" else open_short)[book] += lot.quantity
        assert len({lot.side for lot in lots}) == 1  # a book is long or short, not both
    unmatched = defaultdict(int)
    for sale in result.unmatched:
        assert sale.book[3] == "CNC"  # only a delivery sale is left unmatched
        unmatched[sale.book] += sale.quantity
    for book in set(bought) | set(sold):
        assert bought[book] == matched_long[book] + open_long[book] + matched_short[book]
        assert sold[book] == (
            matched_short[book] + open_short[book] + matched_long[book] + unmatched[book]
        )


@settings(max_examples=200, deadline=None)
@given(FILLS)
def test_never_matches_across_accounts_instruments_or_product_classes(raw):
    fills = build(raw)
    by_ref = {f.ref: f for f in fills}
    for trip in match_fills(fills).round_trips:
        for ref in trip.closing_refs + trip.opening_refs:
            assert by_ref[ref].book == trip.book
        assert trip.quantity > 0 and trip.close_date >= trip.open_date
        if trip.product_class == "FNO":
            assert trip.classification == "FNO"
