"""A watchlist's rows for one account, priced from the live quote cache only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from marketdata import live
from marketdata.models import Instrument
from portfolio.models import Holding
from sigmatrader.formatting import format_indian, pnl_class

from .models import Member
from .selectors import resolve_members

SORTS = [
    ("", "List order"),
    ("symbol", "Symbol"),
    ("-change_pct", "Change %, best first"),
    ("change_pct", "Change %, worst first"),
    ("-ltp", "Price, highest first"),
]
SORT_VALUES = {value for value, _ in SORTS}


@dataclass
class LiveRow:
    member: Member
    instrument: Instrument | None
    problem: str = ""
    ltp: Decimal | None = None
    change: Decimal | None = None
    change_pct: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    shown: live.Shown | None = None
    buy_query: str = ""  # the order form's query for this row's account
    sell_query: str = ""
    unloaded: bool = False  # the broker's instruments are not loaded: nothing can resolve

    @property
    def key(self) -> str:
        return f"wl-{self.member.pk}"

    @property
    def ltp_text(self) -> str:
        return "—" if self.ltp is None else format_indian(self.ltp)

    @property
    def high_text(self) -> str:
        return "—" if self.high is None else format_indian(self.high)

    @property
    def low_text(self) -> str:
        return "—" if self.low is None else format_indian(self.low)

    @property
    def change_text(self) -> str:
        if self.change is None:
            return "—"
        return ("+" if self.change > 0 else "") + format_indian(self.change)

    @property
    def pct_text(self) -> str:
        return "—" if self.change_pct is None else f"{self.change_pct:+.2f}%"

    @property
    def change_class(self) -> str:
        return pnl_class(self.change) if self.change is not None else ""

    @property
    def stale(self) -> bool:
        return self.shown is None or self.shown.stale

    @property
    def title(self) -> str:
        return self.shown.title if self.shown else "No live price yet"


def unloaded_message(account) -> str:
    """Why nothing resolves at `account`'s broker: its instruments are not loaded."""
    from marketdata import readiness

    if readiness.is_loading(account.broker):
        return f"{account.broker_label} instruments are loading: prices follow."
    if account.is_connected:
        return f"Refresh {account.broker_label} instruments (Settings) to load them."
    return f"Connect {account.display_name} to load its instruments."


def live_rows(members: list[Member], account) -> list[LiveRow]:
    """Each member resolved for `account`'s broker, with the cached price and the change
    from the previous close. Never calls a broker."""
    if account is None:
        return [LiveRow(m, None, "Add a broker account to see prices.") for m in members]
    from marketdata import readiness

    if readiness.is_missing(account.broker):
        said = unloaded_message(account)
        return [LiveRow(m, None, said, unloaded=True) for m in members]
    resolved = resolve_members(members, broker=account.broker)
    # A member missing from a list that is (re)loading may be in it once loaded: said so,
    # never "not at this broker" until the list is settled.
    loading = any(r.instrument is None for r in resolved) and readiness.is_running(account.broker)
    prices = live.cached([r.instrument for r in resolved if r.instrument is not None])
    held = dict(
        Holding.objects.filter(
            account=account,
            instrument_id__in=[r.instrument.pk for r in resolved if r.instrument is not None],
            quantity__gt=0,
        ).values_list("instrument_id", "quantity")
    )
    rows = []
    for r in resolved:
        row = LiveRow(r.member, r.instrument, r.problem)
        if r.instrument is None and loading:
            row = LiveRow(r.member, None, unloaded_message(account), unloaded=True)
        if r.instrument is not None:
            symbol = f"{r.instrument.exchange}:{r.instrument.trading_symbol}"
            row.buy_query = urlencode({"account": account.pk, "symbol": symbol, "side": "BUY"})
            sell = {"account": account.pk, "symbol": symbol, "side": "SELL"}
            if r.instrument.pk in held:  # what this account holds, as Sell on Holdings does
                sell["quantity"] = held[r.instrument.pk]
            row.sell_query = urlencode(sell)
        found = prices.get(r.instrument.pk) if r.instrument else None
        if found is not None:
            row.ltp = found.price
            row.high, row.low = found.high, found.low
            row.shown = live.Shown(found.price, at=found.at, live_price=True)
            if found.close:
                row.change = found.price - found.close
                row.change_pct = (row.change / found.close * 100).quantize(Decimal("0.01"))
        rows.append(row)
    return rows


def sort_rows(rows: list[LiveRow], sort: str) -> list[LiveRow]:
    if sort == "symbol":
        return sorted(rows, key=lambda r: r.member.symbol)
    if sort in ("-change_pct", "change_pct", "-ltp"):
        field = sort.lstrip("-")
        known = [r for r in rows if getattr(r, field) is not None]
        unknown = [r for r in rows if getattr(r, field) is None]
        known.sort(key=lambda r: getattr(r, field), reverse=sort.startswith("-"))
        return known + unknown  # no price: last, whichever way
    return rows
