"""Indicators against published reference values (StockCharts' worked examples)."""

import pytest

from alerts.indicators import atr, ema, highest, lowest, rsi, sma, true_range

# StockCharts, "Relative Strength Index (RSI)" worked example, 14 periods.
RSI_CLOSES = [
    44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03,
    45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45,
    45.78, 45.35, 44.03, 44.18, 44.22, 44.57, 43.42, 42.66, 43.13,
]  # fmt: skip
# Their table rounds the averages to two decimals at each step, hence the tolerance.
RSI_PUBLISHED = [
    70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42,
    39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
]  # fmt: skip

# StockCharts, "Moving Averages", 10-day SMA and EMA worked example.
EMA_PRICES = [
    22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43, 22.24, 22.29, 22.15, 22.39,
    22.38, 22.61, 23.36, 24.05, 23.75, 23.83, 23.95, 23.63, 23.82, 23.87, 23.65, 23.19,
    23.10, 23.33, 22.68, 23.10, 22.40, 22.17,
]  # fmt: skip
EMA_PUBLISHED = [
    22.22, 22.21, 22.24, 22.27, 22.33, 22.52, 22.80, 22.97, 23.13, 23.28, 23.34, 23.43,
    23.51, 23.54, 23.47, 23.40, 23.39, 23.26, 23.23, 23.08, 22.92,
]  # fmt: skip
SMA_PUBLISHED = [
    22.22, 22.21, 22.23, 22.26, 22.31, 22.42, 22.61, 22.77, 22.91, 23.08, 23.21, 23.38,
    23.53, 23.65, 23.71, 23.68, 23.61, 23.50,
]  # fmt: skip


def test_sma_matches_the_published_table():
    values = sma(EMA_PRICES, 10)
    assert values[:9] == [None] * 9
    assert [round(v, 2) for v in values[9:27]] == pytest.approx(SMA_PUBLISHED, abs=0.011)
    naive = [sum(EMA_PRICES[i - 9 : i + 1]) / 10 for i in range(9, len(EMA_PRICES))]
    assert values[9:] == pytest.approx(naive)


def test_ema_is_seeded_with_the_sma_and_matches_the_published_table():
    values = ema(EMA_PRICES, 10)
    assert values[:9] == [None] * 9
    assert values[9] == pytest.approx(sum(EMA_PRICES[:10]) / 10)
    assert [round(v, 2) for v in values[9:]] == pytest.approx(EMA_PUBLISHED, abs=0.011)


def test_rsi_is_wilders_and_matches_the_published_table():
    values = rsi(RSI_CLOSES, 14)
    assert values[:14] == [None] * 14
    assert values[14:] == pytest.approx(RSI_PUBLISHED, abs=0.1)
    # Unrounded Wilder smoothing (what TA-Lib gives for this series).
    assert values[14] == pytest.approx(70.464, abs=0.001)


def test_rsi_of_a_series_that_only_rises_is_100_and_a_flat_one_50():
    assert rsi([1, 2, 3, 4, 5], 3)[-1] == 100.0
    assert rsi([5, 5, 5, 5, 5], 3)[-1] == 50.0
    assert rsi([5, 4, 3, 2, 1], 3)[-1] == 0.0


def test_atr_is_wilders_average_of_true_ranges():
    high = [10.0, 11.0, 12.0, 11.5, 13.0]
    low = [9.0, 10.0, 10.5, 9.5, 11.0]
    close = [9.5, 10.8, 11.0, 10.0, 12.5]
    # TR: 1.0 (first bar: H-L), max(1, |11-9.5|, |10-9.5|)=1.5, max(1.5, 1.2, 0.3)=1.5,
    #     max(2, 0.5, 1.5)=2.0, max(2, 3, 1)=3.0
    assert true_range(high, low, close) == [1.0, 1.5, 1.5, 2.0, 3.0]
    values = atr(high, low, close, 3)
    assert values[:2] == [None, None]
    assert values[2] == pytest.approx(4.0 / 3)  # mean of the first three
    assert values[3] == pytest.approx((4.0 / 3 * 2 + 2.0) / 3)
    assert values[4] == pytest.approx((values[3] * 2 + 3.0) / 3)


def test_highest_and_lowest_over_a_window():
    assert highest([1, 5, 3, 2], 2) == [None, 5, 5, 3]
    assert lowest([1, 5, 3, 2], 3) == [None, None, 1, 2]


def test_short_series_give_no_value_and_a_bad_period_is_refused():
    assert ema([1.0, 2.0], 5) == [None, None]
    assert rsi([1.0, 2.0], 14) == [None, None]
    with pytest.raises(ValueError):
        sma([1.0], 0)
