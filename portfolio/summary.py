"""Portfolio arithmetic: totals, the merged "All accounts" view, sorting and filtering.

Plain functions over model rows (no queries), so the pages and the snapshots
share one definition of "invested", "P&L" and "day P&L".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

ZERO = Decimal("0")


@dataclass
class Totals:
    invested: Decimal = ZERO
    current_value: Decimal = ZERO
    pnl: Decimal = ZERO
    day_pnl: Decimal = ZERO
    count: int = 0

    @property
    def pnl_percent(self) -> Decimal | None:
        return self.pnl * 100 / self.invested if self.invested else None


def totals(rows: Iterable) -> Totals:
    """Totals of holdings (or merged holdings): P&L is current value minus invested."""
    result = Totals()
    for row in rows:
        result.invested += row.invested
        result.current_value += row.current_value
        result.day_pnl += row.day_pnl or ZERO
        result.count += 1
    result.pnl = result.current_value - result.invested
    return result


@dataclass
class MergedHolding:
    """One instrument across accounts, with the per-account rows kept as `parts`.

    Each figure is summed once, when first read (a page reads each several times, and
    sorting by P&L reads it again): read them only once every part is in."""

    symbol: str
    exchange: str
    parts: list = field(default_factory=list)

    @cached_property
    def quantity(self) -> int:
        return sum(part.quantity for part in self.parts)

    @cached_property
    def t1_quantity(self) -> int:
        return sum(part.t1_quantity for part in self.parts)

    @cached_property
    def mtf_quantity(self) -> int:
        return sum(part.mtf_quantity for part in self.parts)

    @cached_property
    def invested(self) -> Decimal:
        return sum((part.invested for part in self.parts), ZERO)

    @cached_property
    def current_value(self) -> Decimal:
        return sum((part.current_value for part in self.parts), ZERO)

    @cached_property
    def average_price(self) -> Decimal:
        """Quantity-weighted: total invested over total quantity."""
        quantity = self.quantity
        return self.invested / quantity if quantity else ZERO

    @cached_property
    def last_price(self) -> Decimal:
        newest = max(self.parts, key=lambda part: part.synced_at)
        return newest.last_price

    @cached_property
    def pnl(self) -> Decimal:
        return self.current_value - self.invested

    @cached_property
    def day_pnl(self) -> Decimal | None:
        known = [part.day_pnl for part in self.parts if part.day_pnl is not None]
        return sum(known, ZERO) if known else None

    @cached_property
    def pnl_percent(self) -> Decimal | None:
        invested = self.invested
        return self.pnl * 100 / invested if invested else None


def merge_holdings(rows: Iterable) -> list[MergedHolding]:
    merged: dict[tuple[str, str], MergedHolding] = {}
    for row in rows:
        key = (row.symbol, row.exchange)
        merged.setdefault(key, MergedHolding(symbol=row.symbol, exchange=row.exchange))
        merged[key].parts.append(row)
    return list(merged.values())


@dataclass
class MergedPosition:
    symbol: str
    exchange: str
    product: str
    parts: list = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(part.quantity for part in self.parts)

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(part, name) for part in self.parts), ZERO)

    @property
    def pnl(self) -> Decimal:
        return self._sum("pnl")

    @property
    def realised(self) -> Decimal:
        return self._sum("realised")

    @property
    def unrealised(self) -> Decimal:
        return self._sum("unrealised")

    @property
    def m2m(self) -> Decimal:
        return self._sum("m2m")

    @property
    def average_price(self) -> Decimal:
        weight = sum(abs(part.quantity) for part in self.parts)
        if not weight:
            return ZERO
        return sum((part.average_price * abs(part.quantity) for part in self.parts), ZERO) / weight

    @property
    def last_price(self) -> Decimal:
        return max(self.parts, key=lambda part: part.synced_at).last_price


def merge_positions(rows: Iterable) -> list[MergedPosition]:
    merged: dict[tuple[str, str, str], MergedPosition] = {}
    for row in rows:
        key = (row.symbol, row.exchange, row.product)
        merged.setdefault(key, MergedPosition(row.symbol, row.exchange, row.product))
        merged[key].parts.append(row)
    return list(merged.values())


def position_totals(rows: Iterable) -> dict:
    rows = list(rows)
    return {
        "pnl": sum((row.pnl for row in rows), ZERO),
        "realised": sum((row.realised for row in rows), ZERO),
        "unrealised": sum((row.unrealised for row in rows), ZERO),
        "m2m": sum((row.m2m for row in rows), ZERO),
        "open": sum(1 for row in rows if row.quantity),
        "count": len(rows),
    }


SORTS = {
    "symbol": lambda row: row.symbol,
    "quantity": lambda row: row.quantity,
    "invested": lambda row: row.invested,
    "value": lambda row: row.current_value,
    "pnl": lambda row: row.pnl,
    "pnl_percent": lambda row: row.pnl_percent if row.pnl_percent is not None else ZERO,
    "day_pnl": lambda row: row.day_pnl if row.day_pnl is not None else ZERO,
}


def sort_and_filter(rows: list, *, sort: str = "symbol", query: str = "") -> list:
    """`sort` is a key of SORTS, "-" in front for descending; unknown keys sort by symbol."""
    query = query.strip().upper()
    if query:
        rows = [row for row in rows if query in row.symbol.upper()]
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"), SORTS["symbol"])
    return sorted(rows, key=key, reverse=descending)
