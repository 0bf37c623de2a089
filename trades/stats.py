"""Results of a set of round trips: totals, win rate, drawdown, the equity curve.

Pure functions over objects with `net`, `classification`, `closed_at` and
`strategy` (RoundTrip rows or matching.Match with a net set). The equity curve
is drawn by the server as inline SVG (`curve_points`), no chart library.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0")


@dataclass
class Summary:
    label: str = ""
    trades: int = 0
    wins: int = 0
    losses: int = 0
    gross: Decimal = ZERO
    charges: Decimal = ZERO
    net: Decimal = ZERO
    win_total: Decimal = ZERO
    loss_total: Decimal = ZERO
    largest_loss: Decimal = ZERO
    max_drawdown: Decimal = ZERO
    curve: list[Decimal] = field(default_factory=list)

    @property
    def win_rate(self) -> Decimal | None:
        if not self.trades:
            return None
        return (Decimal(self.wins) * 100 / self.trades).quantize(Decimal("0.1"))

    @property
    def average_win(self) -> Decimal | None:
        return (self.win_total / self.wins).quantize(Decimal("0.01")) if self.wins else None

    @property
    def average_loss(self) -> Decimal | None:
        return (self.loss_total / self.losses).quantize(Decimal("0.01")) if self.losses else None


def summarise(trips: Iterable, label: str = "") -> Summary:
    """Totals over `trips`, taken in the order given (close time, for the drawdown)."""
    s = Summary(label=label)
    equity = peak = ZERO
    for trip in trips:
        net = trip.net
        s.trades += 1
        s.gross += trip.gross
        s.charges += trip.charges_estimate
        s.net += net
        if net > 0:
            s.wins += 1
            s.win_total += net
        elif net < 0:
            s.losses += 1
            s.loss_total += net
            s.largest_loss = min(s.largest_loss, net)
        equity += net
        peak = max(peak, equity)
        s.max_drawdown = max(s.max_drawdown, peak - equity)
        s.curve.append(equity)
    return s


def by(trips: Sequence, attribute: str) -> list[Summary]:
    """One summary per value of `attribute`, largest net first."""
    groups: dict[str, list] = defaultdict(list)
    for trip in trips:
        groups[str(getattr(trip, attribute))].append(trip)
    return sorted((summarise(rows, label) for label, rows in groups.items()), key=lambda s: -s.net)


def max_drawdown(values: Iterable[Decimal]) -> Decimal:
    """The largest fall from a running peak of the cumulative sum of `values`."""
    equity = peak = worst = ZERO
    for value in values:
        equity += value
        peak = max(peak, equity)
        worst = max(worst, peak - equity)
    return worst


@dataclass(frozen=True)
class Chart:
    points: str  # the polyline's "x,y x,y ..."
    zero_y: float  # where the zero line is
    width: int
    height: int
    low: Decimal
    high: Decimal


def thin(values: Sequence[Decimal], most: int) -> list[Decimal]:
    """At most about `most` points: each bucket keeps its low and its high, in the
    order they came, so no peak or trough (the drawdown) is lost from the drawing."""
    if len(values) <= most:
        return list(values)
    size = -(-len(values) // (most // 2))
    kept: list[Decimal] = []
    for start in range(0, len(values), size):
        bucket = values[start : start + size]
        low = min(range(len(bucket)), key=bucket.__getitem__)
        high = max(range(len(bucket)), key=bucket.__getitem__)
        first = {0} if start == 0 else set()
        last = {len(bucket) - 1} if start + size >= len(values) else set()
        kept.extend(bucket[i] for i in sorted({low, high} | first | last))
    return kept


def curve_points(curve: Sequence[Decimal], *, width: int = 600, height: int = 160) -> Chart | None:
    """An SVG polyline of the cumulative net, starting at 0; None with nothing to draw.
    A long history is thinned to about two points per horizontal unit."""
    if not curve:
        return None
    values = thin([ZERO, *curve], 2 * width)
    low, high = min(values), max(values)
    span = (high - low) or Decimal("1")
    pad = 4
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y(value: Decimal) -> float:
        return round(pad + float((high - value) / span) * (height - 2 * pad), 1)

    points = " ".join(f"{round(pad + i * step, 1)},{y(v)}" for i, v in enumerate(values))
    return Chart(points, y(ZERO), width, height, low, high)
