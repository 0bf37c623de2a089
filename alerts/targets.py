"""What a rule watches: one symbol, an account's (or every account's) holdings, or
a watchlist. Each becomes a list of `Item`s, one per symbol (per holding account).

A watchlist's members are exchange-level symbols (`watchlists` stores them so),
priced and resolved per account like any other item.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404

from marketdata.models import Instrument
from watchlists.selectors import members_of, watchlist_for


class TargetUnavailable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Item:
    key: str  # NSE:SBIN, or NSE:SBIN@<account id> for one account's holding
    exchange: str
    symbol: str  # canonical
    account_id: int | None = None  # the holding's account
    account_name: str = ""
    quantity: int = 0
    average_price: Decimal | None = None
    close_price: Decimal | None = None
    instrument_id: int | None = None

    @property
    def name(self) -> str:
        return f"{self.exchange}:{self.symbol}"


def split_symbol(text: str) -> tuple[str, str]:
    """("NSE", "SBIN") from "NSE:SBIN" (NSE when no exchange is given)."""
    text = " ".join((text or "").strip().upper().split())
    exchange, _, symbol = text.rpartition(":")
    return (exchange or "NSE"), symbol


def symbol_items(symbol: str) -> list[Item]:
    exchange, name = split_symbol(symbol)
    return [Item(key=f"{exchange}:{name}", exchange=exchange, symbol=name)]


def holding_items(*, user, account=None) -> list[Item]:
    """One item per holding (per account) of `user`, of `account` when given."""
    from brokers.models import BrokerAccount
    from portfolio.selectors import holdings_of

    rows = list(
        holdings_of(user, account)
        .filter(quantity__gt=0)
        .select_related(None)
        .order_by("exchange", "symbol", "account_id")
    )
    accounts = BrokerAccount.objects.filter(pk__in={row.account_id for row in rows}, user=user)
    names = {a.pk: a.display_name for a in accounts}
    return [
        Item(
            key=f"{row.exchange}:{row.symbol}@{row.account_id}",
            exchange=row.exchange,
            symbol=row.symbol,
            account_id=row.account_id,
            account_name=names.get(row.account_id, ""),
            quantity=row.quantity,
            average_price=row.average_price,
            close_price=row.close_price,
            instrument_id=row.instrument_id,
        )
        for row in rows
    ]


def watchlist_items(*, user, watchlist_id: int | None) -> list[Item]:
    """One item per member of the user's watchlist, in list order, each symbol once."""
    if not watchlist_id:
        raise TargetUnavailable("No watchlist is chosen.")
    try:
        watchlist = watchlist_for(user, watchlist_id)
    except Http404:
        raise TargetUnavailable("The watchlist no longer exists.") from None
    items: dict[str, Item] = {}
    for member in members_of(watchlist):
        key = f"{member.exchange}:{member.symbol}"
        items.setdefault(key, Item(key=key, exchange=member.exchange, symbol=member.symbol))
    if not items:
        raise TargetUnavailable(f"The watchlist {watchlist.name} is empty.")
    return list(items.values())


def items_for(rule) -> list[Item]:
    """The rule's items; TargetUnavailable with the reason when there are none to watch."""
    if rule.target == rule.Target.SYMBOL:
        if not rule.symbol:
            raise TargetUnavailable("No symbol is set.")
        return symbol_items(rule.symbol)
    if rule.target == rule.Target.HOLDINGS:
        return holding_items(user=rule.user, account=holdings_scope(rule))
    return watchlist_items(user=rule.user, watchlist_id=rule.watchlist_id)


def holdings_scope(rule):
    """The account whose holdings a holdings rule watches (None: every account's).

    An order acts on the account that holds the shares: a rule with an order action
    watches only its order account's holdings (a holding on another account is never
    sized or sold from the order account); TargetUnavailable when the rule names a
    different holdings account."""
    account = rule.holdings_account
    if not rule.has_order or rule.action_account is None:
        return account
    if account is not None and account.pk != rule.action_account.pk:
        raise TargetUnavailable(
            f"The holdings watched are {account.display_name}'s but orders go to "
            f"{rule.action_account.display_name}: an order acts on the account that "
            "holds the shares, choose the same account."
        )
    return rule.action_account


def instruments_by_name(names: set[tuple[str, str]]) -> dict[tuple[str, str], list[Instrument]]:
    """{(exchange, canonical symbol): its instruments at every broker}, in one query."""
    found: dict[tuple[str, str], list[Instrument]] = {}
    if not names:
        return found
    symbols = {symbol for _exchange, symbol in names}
    for instrument in Instrument.objects.filter(canonical_symbol__in=symbols):
        key = (instrument.exchange, instrument.canonical_symbol)
        if key in names:
            found.setdefault(key, []).append(instrument)
    return found
