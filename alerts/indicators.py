"""Technical indicators over a series of floats (oldest first), in plain Python.

Each function returns a list as long as its input, with None where the window is
not yet full, so `series[-1]` is the value now and `series[-2]` the one a bar
ago. The definitions are the usual ones (TA-Lib, TradingView):

- `sma`: the arithmetic mean of the last n values.
- `ema`: seeded with the SMA of the first n values, then
  ``ema = prev + (value - prev) * 2 / (n + 1)``.
- `rsi`: Wilder's RSI: average gain and loss seeded with the simple mean of the
  first n changes, then smoothed ``avg = (prev * (n - 1) + now) / n``.
- `atr`: Wilder's average true range, seeded with the mean of the first n true
  ranges (the first bar's true range is its high - low).

Why no library: the package lists offer TA-Lib (a C library to build),
pandas-ta / ta / finta (pandas and numpy, which the app does not install, for
four indicators over a few hundred bars), talipp (incremental, pure Python, a
fine fit but one more dependency for what fits on one page). Each function is
one pass, O(len); tests/alerts/test_indicators.py checks them against published
reference values.
"""

from __future__ import annotations

from collections.abc import Sequence

Series = list[float | None]


def _check(n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError("the period must be a whole number of at least 1")


def sma(values: Sequence[float], n: int) -> Series:
    _check(n)
    out: Series = [None] * len(values)
    total = 0.0
    for i, value in enumerate(values):
        total += value
        if i >= n:
            total -= values[i - n]
        if i >= n - 1:
            out[i] = total / n
    return out


def ema(values: Sequence[float], n: int) -> Series:
    _check(n)
    out: Series = [None] * len(values)
    if len(values) < n:
        return out
    k = 2.0 / (n + 1)
    current = sum(values[:n]) / n
    out[n - 1] = current
    for i in range(n, len(values)):
        current = current + (values[i] - current) * k
        out[i] = current
    return out


def rsi(values: Sequence[float], n: int = 14) -> Series:
    _check(n)
    out: Series = [None] * len(values)
    if len(values) <= n:
        return out
    gains = losses = 0.0
    for i in range(1, n + 1):
        change = values[i] - values[i - 1]
        gains += max(change, 0.0)
        losses += max(-change, 0.0)
    avg_gain, avg_loss = gains / n, losses / n
    out[n] = _rsi_value(avg_gain, avg_loss)
    for i in range(n + 1, len(values)):
        change = values[i] - values[i - 1]
        avg_gain = (avg_gain * (n - 1) + max(change, 0.0)) / n
        avg_loss = (avg_loss * (n - 1) + max(-change, 0.0)) / n
        out[i] = _rsi_value(avg_gain, avg_loss)
    return out


def _rsi_value(gain: float, loss: float) -> float:
    if loss == 0:
        return 100.0 if gain > 0 else 50.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def true_range(high: Sequence[float], low: Sequence[float], close: Sequence[float]) -> list[float]:
    ranges = []
    for i in range(len(close)):
        if i == 0:
            ranges.append(high[0] - low[0])
        else:
            previous = close[i - 1]
            ranges.append(max(high[i] - low[i], abs(high[i] - previous), abs(low[i] - previous)))
    return ranges


def atr(high: Sequence[float], low: Sequence[float], close: Sequence[float], n: int = 14) -> Series:
    _check(n)
    ranges = true_range(high, low, close)
    out: Series = [None] * len(ranges)
    if len(ranges) < n:
        return out
    current = sum(ranges[:n]) / n
    out[n - 1] = current
    for i in range(n, len(ranges)):
        current = (current * (n - 1) + ranges[i]) / n
        out[i] = current
    return out


def highest(values: Sequence[float], n: int) -> Series:
    _check(n)
    return [max(values[i - n + 1 : i + 1]) if i >= n - 1 else None for i in range(len(values))]


def lowest(values: Sequence[float], n: int) -> Series:
    _check(n)
    return [min(values[i - n + 1 : i + 1]) if i >= n - 1 else None for i in range(len(values))]
